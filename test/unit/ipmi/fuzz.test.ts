// 100,000 random and mutated datagrams through the real UDP listener on loopback; afterwards the server still
// answers a presence ping, no packet caused an internal error, and a full RMCP+ login and command still work.
// (The integration suite repeats this against ipmitool.)
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileBmcStore } from '../../../bmc-agent/src/bmc/store.ts';
import { decodeAsf, encodePresencePing } from '../../../bmc-agent/src/ipmi/codec/asf.ts';
import { decodeRmcp, encodeRmcp, RmcpClass } from '../../../bmc-agent/src/ipmi/codec/rmcp.ts';
import { type IpmiLan, startIpmiLan } from '../../../bmc-agent/src/ipmi/lan.ts';
import { silentLogger } from '../../../bmc-agent/src/log.ts';
import { blast, samplePackets, seedPackets } from './fuzz-packets.ts';
import { login, loginV15, type Send } from './session/client.ts';
import { inertMachine } from './session/support.ts';

const PACKETS = Number(process.env.FUZZ_PACKETS ?? 100_000);

let dir: string;
let lan: IpmiLan;
let registry: Registry;
let udp: Socket;
let store: FileBmcStore;

async function metric(name: string, reason?: string): Promise<number> {
  const values = (await registry.getSingleMetric(name)?.get())?.values ?? [];
  return values.filter((v) => reason === undefined || v.labels['reason'] === reason).reduce((n, v) => n + v.value, 0);
}

const send: Send = (packet) =>
  new Promise((resolve) => {
    const timer = setTimeout(() => {
      udp.off('message', onMessage);
      resolve(undefined);
    }, 2000);
    const onMessage = (msg: Buffer): void => {
      clearTimeout(timer);
      udp.off('message', onMessage);
      resolve(Uint8Array.from(msg));
    };
    udp.on('message', onMessage);
    udp.send(packet, lan.address.port, '127.0.0.1');
  });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ipmi-fuzz-'));
  store = await FileBmcStore.open({
    path: join(dir, 'state.json'),
    seed: {
      adminUser: 'admin',
      adminPassword: 'password',
      address: '10.0.0.5',
      macAddress: '52:54:00:12:34:56',
      powerRestorePolicy: 'always-off',
    },
  });
  registry = new Registry();
  lan = await startIpmiLan({
    config: {
      port: 0,
      host: '127.0.0.1',
      cipherSuites: [3, 17],
      allowV15: true,
      maxSessions: 4,
      sessionTimeoutSec: 60,
    },
    log: silentLogger(),
    registry,
    machine: inertMachine(),
    store,
  });
  udp = createSocket('udp4');
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', () => resolve()));
});

afterAll(async () => {
  udp?.close();
  await lan?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('IPMI LAN fuzz', () => {
  it(`survives ${PACKETS.toLocaleString('en')} random and mutated datagrams`, { timeout: 120_000 }, async () => {
    // A live session, so mutations of session packets reach the integrity and sequence checks.
    const live = await login(send, { user: 'admin', password: 'password', suite: 17 });
    if (!live.session) throw new Error('login before fuzzing failed');
    // IPMI 1.5 is allowed here so its paths are fuzzed too (it is off by default).
    const legacy = await loginV15(send, { user: 'admin', password: 'password' });
    if (!legacy.session) throw new Error('v1.5 login before fuzzing failed');
    const seeds = seedPackets([
      live.session.request(0x06, 0x01),
      live.session.request(0x00, 0x01),
      legacy.session.request(0x06, 0x01),
    ]);
    const packets = samplePackets(PACKETS, seeds, [live.session.bmcSessionId, legacy.session.id], 0x1b3c);
    await blast(packets, lan.address.port, () => metric('ipmi_lan_packets_total'));
    const received = await metric('ipmi_lan_packets_total');
    expect(received).toBeGreaterThan(PACKETS * 0.9);
    expect(await metric('ipmi_lan_rejected_total', 'internal-error')).toBe(0);
    expect(await metric('ipmi_lan_rejected_total')).toBeGreaterThan(PACKETS * 0.5);

    // Still alive: a presence ping is answered ...
    const pong = await send(encodeRmcp(RmcpClass.Asf, encodePresencePing(9)));
    if (!pong) throw new Error('no pong after fuzzing');
    expect(decodeAsf(decodeRmcp(pong).body).tag).toBe(9);
    // ... a fresh session opens and answers ...
    const fresh = await login(send, { user: 'admin', password: 'password', suite: 3 });
    if (!fresh.session) throw new Error(`login after fuzzing failed: ${JSON.stringify(fresh.open)}`);
    expect(fresh.session.response(await send(fresh.session.request(0x06, 0x01))).cc).toBe(0);
    // ... and the session that lived through the fuzzing still works with its next sequence numbers.
    expect(live.session.response(await send(live.session.request(0x06, 0x01))).cc).toBe(0);
    expect(legacy.session.response(await send(legacy.session.request(0x06, 0x01))).cc).toBe(0);
    // The fuzz changed no users.
    expect(store.state().users.map((u) => u.name)).toEqual(['', 'admin']);
  });
});
