// TLS by default (generated once, kept 0600, reused) and the metrics the service registers.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { authenticateHeaders } from '../../../bmc-agent/src/redfish/auth.ts';
import { CERT_FILE, KEY_FILE } from '../../../bmc-agent/src/redfish/tls.ts';
import { call, startHarness } from './support.ts';

function peerFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.on('error', reject);
  });
}

describe('Redfish server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'redfish-tls-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('generates a self-signed ECDSA P-256 certificate on first start, keeps it 0600 in stateDir and reuses it', async () => {
    const first = await startHarness({}, dir);
    const fp1 = await peerFingerprint(first.server.port);
    await first.close();
    for (const f of [CERT_FILE, KEY_FILE]) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
    const cert = new X509Certificate(readFileSync(join(dir, CERT_FILE)));
    expect(cert.subjectAltName).toContain('IP Address:192.0.2.10');
    expect(cert.publicKey.asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
    expect(cert.checkPrivateKey(createPrivateKey(readFileSync(join(dir, KEY_FILE))))).toBe(true);
    expect(cert.fingerprint256).toBe(fp1);
    const second = await startHarness({}, dir);
    expect(await peerFingerprint(second.server.port)).toBe(fp1);
    await second.close();
  });

  it('uses TLS_CERT/TLS_KEY when given, and refuses only one of them', async () => {
    const other = mkdtempSync(join(tmpdir(), 'redfish-tls2-'));
    try {
      const h = await startHarness({ tlsCert: join(dir, CERT_FILE), tlsKey: join(dir, KEY_FILE) }, other);
      expect(await peerFingerprint(h.server.port)).toBe(
        new X509Certificate(readFileSync(join(dir, CERT_FILE))).fingerprint256,
      );
      await h.close();
      await expect(startHarness({ tlsCert: join(dir, CERT_FILE) }, other)).rejects.toThrow(/TLS_CERT and TLS_KEY/);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('counts requests by route template and status, sessions and power actions', async () => {
    const h = await startHarness();
    try {
      await call(h.server.port, 'GET', '/redfish/v1/Systems/1');
      await call(h.server.port, 'GET', '/redfish/v1/Systems/1', { auth: false });
      await call(h.server.port, 'POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', {
        body: { ResetType: 'On' },
      });
      await call(h.server.port, 'POST', '/redfish/v1/SessionService/Sessions', {
        auth: false,
        body: { UserName: 'admin', Password: 'password' },
      });
      const text = await h.registry.metrics();
      expect(text).toContain('redfish_requests_total{method="GET",route="/redfish/v1/Systems/:id",status="200"} 1');
      expect(text).toContain('redfish_requests_total{method="GET",route="/redfish/v1/Systems/:id",status="401"} 1');
      expect(text).toContain('redfish_power_actions_total{type="On",result="ok"} 1');
      expect(text).toContain('redfish_sessions_active 1');
      h.advance(301_000); // idle past the timeout: the gauge drops without any further request
      expect(await h.registry.metrics()).toContain('redfish_sessions_active 0');
    } finally {
      await h.close();
    }
  });

  it('serves /metrics only to authenticated users (Basic or X-Auth-Token, ReadOnly is enough)', async () => {
    const h = await startHarness();
    try {
      const anonymous = await call(h.server.port, 'GET', '/metrics', { auth: false });
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers['www-authenticate']).toMatch(/^Basic /);
      expect(anonymous.json.error.code).toMatch(/NoValidSession$/);
      expect(anonymous.text).not.toContain('redfish_requests_total');
      expect((await call(h.server.port, 'GET', '/metrics', { auth: 'admin:wrong' })).status).toBe(401);
      expect((await call(h.server.port, 'GET', '/metrics', { auth: 'sleeper:sleeppass' })).status).toBe(401);
      expect((await call(h.server.port, 'GET', '/metrics', { token: 'not-a-session' })).status).toBe(401);

      const reader = await call(h.server.port, 'GET', '/metrics', { auth: 'reader:readpass' });
      expect(reader.status).toBe(200);
      expect(reader.headers['content-type']).toMatch(/^text\/plain/);
      expect(reader.text).toContain('redfish_requests_total');
      const login = await call(h.server.port, 'POST', '/redfish/v1/SessionService/Sessions', {
        auth: false,
        body: { UserName: 'reader', Password: 'readpass' },
      });
      const token = login.headers['x-auth-token'] as string;
      const bySession = await call(h.server.port, 'GET', '/metrics', { token });
      expect(bySession.status).toBe(200);
      expect(bySession.text).toContain('redfish_sessions_active 1');
    } finally {
      await h.close();
    }
  });

  it('lets other modules mount routes behind the same auth', async () => {
    const h = await startHarness();
    try {
      h.server.app.get('/novnc-test', h.server.requireAuth('Login'), (_req, res) => {
        res.send('console');
      });
      // Route order: mounted after the Redfish router, still reached for its own path.
      expect((await call(h.server.port, 'GET', '/novnc-test', { auth: false })).status).toBe(401);
      const ok = await call(h.server.port, 'GET', '/novnc-test');
      expect(ok.text).toBe('console');
      // Raw-header form, for WebSocket upgrades.
      const basic = `Basic ${Buffer.from('operator:oppass').toString('base64')}`;
      const headers: Record<string, string> = { authorization: basic };
      const who = authenticateHeaders((n) => headers[n.toLowerCase()], h.store, h.server.context.sessions);
      expect(who).toMatchObject({ userName: 'operator', role: 'Operator' });
      headers.authorization = `Basic ${Buffer.from('operator:nope').toString('base64')}`;
      expect(authenticateHeaders((n) => headers[n.toLowerCase()], h.store, h.server.context.sessions)).toBeUndefined();
    } finally {
      await h.close();
    }
  });
});
