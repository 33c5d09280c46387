// The agent as it ships: the bundle scripts/build-agent.ts makes (what `npm run agent` and the image run), started
// as a process. Its data files (CSDL, registries, the console page) and noVNC must be found from the bundle, config
// errors must still be one line, and the health check must work.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAgent } from '../../../scripts/build-agent.ts';
import { freePorts } from '../../support/ports.ts';

const repo = resolve(import.meta.dirname, '../../..');
const ADMIN = 'admin:bundle-test-pw';

function httpsGet(port: number, path: string, auth?: string): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolveBody, reject) => {
    get({ host: '127.0.0.1', port, path, rejectUnauthorized: false, ...(auth ? { auth } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolveBody({ status: res.statusCode ?? 0, body, type: res.headers['content-type'] ?? '' }));
    }).on('error', reject);
  });
}

describe('bmc-agent bundle (dist/agent)', () => {
  // Inside the checkout, as dist/agent is: noVNC resolves from the checkout's node_modules.
  mkdirSync(join(repo, 'dist'), { recursive: true });
  const out = mkdtempSync(join(repo, 'dist', 'agent-test-'));
  const state = mkdtempSync(join(tmpdir(), 'agent-bundle-'));
  let child: ChildProcess | undefined;
  beforeAll(async () => {
    await buildAgent(out);
  }, 120_000);
  afterAll(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(out, { recursive: true, force: true });
    rmSync(state, { recursive: true, force: true });
  });

  it('is plain JavaScript that imports no built-in as an ES module and reads nothing from bmc-agent/src', () => {
    const files = readdirSync(out).filter((f) => f.endsWith('.mjs'));
    expect(files).toContain('main.mjs');
    expect(files).toContain('healthcheck.mjs');
    for (const f of files) {
      const code = readFileSync(join(out, f), 'utf8');
      expect(code, f).not.toMatch(/from\s*["']node:/);
      expect(code, f).not.toContain('bmc-agent/src/');
    }
  });

  it('exits 2 with one line naming the bad variable', () => {
    const r = spawnSync(process.execPath, [join(out, 'main.mjs')], {
      env: { PATH: process.env['PATH'] ?? '', STATE_DIR: state, VM_MEMORY: 'lots' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('bmc-agent: VM_MEMORY: must be an integer 16..1048576, got "lots"\n');
  });

  it('serves Redfish with $metadata, the console page and noVNC; the health check passes; SIGTERM exits 0', async () => {
    const [redfish, vnc, serial] = await freePorts(3);
    const [ipmi] = await freePorts(1, 'udp');
    if (redfish === undefined || vnc === undefined || serial === undefined || ipmi === undefined)
      throw new Error('freePorts returned too few ports');
    let out2 = '';
    const env = {
      PATH: process.env['PATH'] ?? '',
      STATE_DIR: state,
      QEMU_MODE: 'managed',
      VM_DISK: '',
      ENABLE_KVM: 'false',
      POWER_ON_AT_START: 'false',
      REDFISH_PORT: String(redfish),
      IPMI_PORT: String(ipmi),
      VNC_PORT: String(vnc),
      SERIAL_ADDR: `127.0.0.1:${serial}`,
      IPMI_PASS: 'bundle-test-pw',
      BMC_ADDRESS: '127.0.0.1',
    };
    const proc = spawn(process.execPath, [join(out, 'main.mjs')], { env });
    child = proc;
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    proc.stdout?.on('data', (d: Buffer) => {
      out2 += d.toString();
    });
    proc.stderr?.on('data', (d: Buffer) => {
      out2 += d.toString();
    });
    for (let waited = 0; !out2.includes('"msg":"agent started"'); waited += 100) {
      if (waited > 30_000 || proc.exitCode !== null) throw new Error(`agent did not start:\n${out2}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(out2).toContain('generated self-signed Redfish TLS certificate');
    expect((await httpsGet(redfish, '/redfish/v1')).status).toBe(200);
    const metadata = await httpsGet(redfish, '/redfish/v1/$metadata');
    expect(metadata.status).toBe(200);
    expect(metadata.body).toContain('ComputerSystem_v1.xml');
    const system = await httpsGet(redfish, '/redfish/v1/Systems/1', ADMIN);
    expect(system.status).toBe(200);
    expect(JSON.parse(system.body)['@odata.type']).toMatch(/^#ComputerSystem\.v1_\d+_\d+\.ComputerSystem$/);
    const missing = await httpsGet(redfish, '/redfish/v1/Nothing', ADMIN);
    expect(missing.status).toBe(404);
    expect(missing.body).toContain('Base.1.');
    const page = await httpsGet(redfish, '/novnc/vnc.html?ticket=t', ADMIN);
    expect(page.status).toBe(200);
    expect(page.type).toMatch(/^text\/html/);
    expect((await httpsGet(redfish, '/novnc/console.js', ADMIN)).status).toBe(200);
    const rfb = await httpsGet(redfish, '/novnc/core/rfb.js', ADMIN);
    expect(rfb.status).toBe(200);
    expect(rfb.body).toContain('export default class RFB');
    // The MIME database is bundled as JSON.parse (build-agent's jsonAsParse): types still resolve.
    expect(rfb.type).toMatch(/^(text|application)\/javascript/);
    const health = spawnSync(process.execPath, [join(out, 'healthcheck.mjs')], {
      env: { PATH: env.PATH, REDFISH_PORT: String(redfish) },
      timeout: 30_000,
    });
    expect(health.status).toBe(0);
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 60_000);
});
