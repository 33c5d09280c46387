// startIpmiLan as a process-level component: configuration checks, binding (IPv4 and IPv6 loopback), the oversize
// guard, metrics registration on a shared registry, and close().
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileBmcStore } from '../../../../bmc-agent/src/bmc/store.ts';
import { decodeAsf, encodePresencePing } from '../../../../bmc-agent/src/ipmi/codec/asf.ts';
import { decodeRmcp, encodeRmcp, RmcpClass } from '../../../../bmc-agent/src/ipmi/codec/rmcp.ts';
import { type IpmiLanConfig, startIpmiLan } from '../../../../bmc-agent/src/ipmi/lan.ts';
import { silentLogger } from '../../../../bmc-agent/src/log.ts';
import { inertMachine } from './support.ts';

let dir: string;
let store: FileBmcStore;
const base: IpmiLanConfig = {
  port: 0,
  host: '127.0.0.1',
  cipherSuites: [3, 17],
  allowV15: false,
  maxSessions: 4,
  sessionTimeoutSec: 60,
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ipmi-lan-'));
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
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const start = (config: Partial<IpmiLanConfig>, registry = new Registry()) =>
  startIpmiLan({ config: { ...base, ...config }, log: silentLogger(), registry, machine: inertMachine(), store });

function exchange(packet: Uint8Array, port: number, host: string): Promise<Uint8Array | undefined> {
  const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.close();
      resolve(undefined);
    }, 1500);
    socket.once('message', (msg) => {
      clearTimeout(timer);
      socket.close();
      resolve(Uint8Array.from(msg));
    });
    socket.send(packet, port, host);
  });
}

describe('startIpmiLan', () => {
  it('refuses cipher suites it cannot run and bad limits, before binding anything', async () => {
    await expect(start({ cipherSuites: [3, 4] })).rejects.toThrow(/cipher suite 4 is not supported/);
    await expect(start({ maxSessions: 0 })).rejects.toThrow(/maxSessions/);
    await expect(start({ sessionTimeoutSec: 0 })).rejects.toThrow(/timeout/);
  });

  it.each(['127.0.0.1', '::1'])('answers a presence ping on %s and releases the port on close', async (host) => {
    const lan = await start({ host });
    const reply = await exchange(encodeRmcp(RmcpClass.Asf, encodePresencePing(3)), lan.address.port, host);
    if (!reply) throw new Error('no pong');
    expect(decodeAsf(decodeRmcp(reply).body).tag).toBe(3);
    const port = lan.address.port;
    await lan.close();
    const again = await start({ host, port });
    expect(again.address.port).toBe(port);
    await again.close();
  });

  it('drops oversize datagrams and counts them; two listeners can share one registry', async () => {
    const registry = new Registry();
    const a = await start({}, registry);
    const b = await start({}, registry);
    try {
      const huge = new Uint8Array(1500);
      huge.set(encodeRmcp(RmcpClass.Asf, encodePresencePing(1)));
      expect(await exchange(huge, a.address.port, '127.0.0.1')).toBeUndefined();
      const values = (await registry.getSingleMetric('ipmi_lan_rejected_total')?.get())?.values ?? [];
      expect(values.find((v) => v.labels['reason'] === 'oversize')?.value).toBe(1);
      expect(
        await exchange(encodeRmcp(RmcpClass.Asf, encodePresencePing(2)), b.address.port, '127.0.0.1'),
      ).toBeDefined();
    } finally {
      await a.close();
      await b.close();
    }
  });
});
