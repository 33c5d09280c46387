// The operator's side of the agent link against a loopback HTTPS server speaking the agent's protocol
// (Systems/1 JSON, an SSE stream with keep-alives): real TLS with the pinned certificate, real sockets.
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentLinks, observationFromSystem } from '../../../operator/src/agentlink/links.ts';
import { getJson } from '../../../operator/src/agentlink/redfish.ts';
import { generateAgentTls } from '../../../operator/src/controller/material.ts';

interface FakeAgent {
  port: number;
  power: string;
  streams: Set<import('node:http').ServerResponse>;
  systemReads: number;
  emit(): void;
  close(): Promise<void>;
}

async function agent(cert: string, key: string, auth = 'admin:pw'): Promise<FakeAgent> {
  const state: FakeAgent = {
    port: 0,
    power: 'Off',
    streams: new Set(),
    systemReads: 0,
    emit() {
      for (const s of this.streams)
        s.write(`id: 1\ndata: {"Events":[{"MessageId":"ResourceEvent.1.0.ResourceChanged"}]}\n\n`);
    },
    close: async () => {},
  };
  const server = https.createServer({ cert, key }, (req, res) => {
    if (req.headers.authorization !== `Basic ${Buffer.from(auth).toString('base64')}`) {
      res.writeHead(401).end();
      return;
    }
    if (req.url === '/redfish/v1/Systems/1') {
      state.systemReads++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          PowerState: state.power,
          Boot: { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once' },
        }),
      );
    } else if (req.url === '/redfish/v1/EventService/SSE') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': hello\n\n');
      state.streams.add(res);
      res.on('close', () => state.streams.delete(res));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  state.port = (server.address() as AddressInfo).port;
  state.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return state;
}

/** Polls a condition every 20 ms, at most `attempts` times. */
async function eventually(check: () => boolean, attempts = 150): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('condition not reached');
}

const log = pino({ level: 'silent' });
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('agent link', () => {
  it('reads power and boot override on connect, and again on every event', async () => {
    const tls = await generateAgentTls('n-bmc', 'lab');
    const fake = await agent(tls.cert, tls.key);
    cleanups.push(() => fake.close());
    const changed: string[] = [];
    const links = new AgentLinks(log, (k) => changed.push(k));
    cleanups.push(() => links.closeAll());
    links.ensure('lab/n', { address: `127.0.0.1:${fake.port}`, cert: tls.cert, username: 'admin', password: 'pw' });
    await eventually(() => links.observation('lab/n')?.powerState === 'Off');
    expect(links.observation('lab/n')).toEqual({
      reachable: true,
      powerState: 'Off',
      bootOverride: { target: 'Pxe', enabled: 'Once' },
    });
    await eventually(() => fake.streams.size === 1);
    fake.power = 'On';
    fake.emit();
    await eventually(() => links.observation('lab/n')?.powerState === 'On');
    expect(changed.every((k) => k === 'lab/n')).toBe(true);
    expect(links.counts()).toEqual({ connected: 1, disconnected: 0 });
  });

  it('reports the agent unreachable when it goes away, and recovers when it is back', async () => {
    const tls = await generateAgentTls('n-bmc', 'lab');
    const fake = await agent(tls.cert, tls.key);
    const links = new AgentLinks(log, () => {});
    cleanups.push(() => links.closeAll());
    links.ensure('lab/n', { address: `127.0.0.1:${fake.port}`, cert: tls.cert, username: 'admin', password: 'pw' });
    await eventually(() => links.observation('lab/n')?.reachable === true);
    const port = fake.port;
    await fake.close();
    await eventually(() => links.observation('lab/n')?.reachable === false);
    // Same port again, as a restarted agent behind its Service would be.
    const back = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
      if (req.url === '/redfish/v1/Systems/1') res.writeHead(200).end('{"PowerState":"On"}');
      else {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(': hi\n\n');
      }
    });
    await new Promise<void>((r) => back.listen(port, '127.0.0.1', () => r()));
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          back.closeAllConnections();
          back.close(() => r());
        }),
    );
    await eventually(() => links.observation('lab/n')?.powerState === 'On', 250);
  });

  it('never sends credentials to a server without the pinned certificate', async () => {
    const pinned = await generateAgentTls('n-bmc', 'lab');
    const impostor = await generateAgentTls('n-bmc', 'lab');
    const fake = await agent(impostor.cert, impostor.key);
    cleanups.push(() => fake.close());
    await expect(
      getJson(
        { address: `127.0.0.1:${fake.port}`, cert: pinned.cert, username: 'admin', password: 'pw' },
        '/redfish/v1/Systems/1',
      ),
    ).rejects.toThrow(/certificate/);
    expect(fake.systemReads).toBe(0);
    const links = new AgentLinks(log, () => {});
    cleanups.push(() => links.closeAll());
    links.ensure('lab/n', { address: `127.0.0.1:${fake.port}`, cert: pinned.cert, username: 'admin', password: 'pw' });
    await eventually(() => links.observation('lab/n')?.reachable === false);
    expect(links.observation('lab/n')?.error).toMatch(/certificate/);
    expect(fake.systemReads).toBe(0);
  });

  it('maps Systems/1 to an observation, ignoring fields of the wrong type', () => {
    expect(
      observationFromSystem({
        PowerState: 'PoweringOn',
        Boot: { BootSourceOverrideMode: 'UEFI', BootSourceOverrideTarget: 3 },
      }),
    ).toEqual({
      reachable: true,
      powerState: 'PoweringOn',
      bootOverride: { mode: 'UEFI' },
    });
    expect(observationFromSystem({})).toEqual({ reachable: true });
  });
});
