import { createServer as createHttpServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Socket } from 'node:net';
import express from 'express';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type ConsoleService, createConsoleService } from '../../../bmc-agent/src/console/novnc.ts';
import { silentLogger } from '../../../bmc-agent/src/log.ts';
import { closeSocket, openConsoleSocket, until } from '../../integration/console/clients.ts';

// The console service in-process, over plain HTTP on loopback, in front of a stand-in VNC server that greets like
// QEMU and echoes what it receives.

let http: Server;
let vnc: ReturnType<typeof createTcpServer>;
let vncSockets: Socket[];
let service: ConsoleService;
let registry: Registry;
let base: string;

const AUTH = { Authorization: 'Basic good' };

beforeEach(async () => {
  vncSockets = [];
  vnc = createTcpServer((socket) => {
    vncSockets.push(socket);
    socket.on('error', () => undefined);
    socket.write('RFB 003.008\n');
    socket.on('data', (d) => socket.write(d));
  });
  await new Promise<void>((r) => vnc.listen(0, '127.0.0.1', r));
  registry = new Registry();
  service = createConsoleService({
    vncAddress: `127.0.0.1:${(vnc.address() as AddressInfo).port}`,
    authorize: (req) => req.headers.authorization === 'Basic good',
    maxConsoles: 2,
    log: silentLogger(),
    registry,
  });
  const app = express();
  app.use(service.router);
  http = createHttpServer(app);
  http.on('upgrade', (req, socket, head) => {
    if (!service.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  base = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/websockify`;
});

afterEach(async () => {
  service.closeAll();
  http.closeAllConnections();
  await new Promise((r) => http.close(r));
  for (const s of vncSockets) s.destroy();
  await new Promise((r) => vnc.close(r));
});

const gauge = async (name: string) => (await registry.getSingleMetric(name)?.get())?.values[0]?.value;

describe('console WebSocket bridge', () => {
  it('carries bytes both ways and closes the VNC side when the browser leaves', async () => {
    const outcome = await openConsoleSocket(base, AUTH);
    if (outcome.kind !== 'open') throw new Error(`refused: ${outcome.status}`);
    expect(outcome.greeting).toBe('RFB 003.008\n');
    const echoed = new Promise<string>((r) => outcome.ws.once('message', (d: Buffer) => r(d.toString())));
    outcome.ws.send(Buffer.from('client bytes'));
    expect(await echoed).toBe('client bytes');
    expect(await gauge('qemubmc_console_active')).toBe(1);

    const vncClosed = new Promise<void>((r) => vncSockets[0]?.once('close', () => r()));
    await closeSocket(outcome.ws);
    await vncClosed;
    await until('the slot to be released', async () => (await gauge('qemubmc_console_active')) === 0, 5_000);
  });

  it('closes the browser side when VNC goes away', async () => {
    const outcome = await openConsoleSocket(base, AUTH);
    if (outcome.kind !== 'open') throw new Error(`refused: ${outcome.status}`);
    const closed = new Promise<number>((r) => outcome.ws.once('close', (code) => r(code)));
    vncSockets[0]?.destroy();
    expect(await closed).toBe(1000);
    await until('the slot to be released', async () => (await gauge('qemubmc_console_active')) === 0, 5_000);
  });

  it('never opens more than the limit, even for upgrades that arrive together', async () => {
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => openConsoleSocket(base, AUTH)));
    const open = outcomes.filter((o) => o.kind === 'open');
    expect(open).toHaveLength(2);
    expect(outcomes.filter((o) => o.kind === 'refused' && o.status === 503)).toHaveLength(3);
    expect(await gauge('qemubmc_console_active')).toBe(2);
    for (const o of open) if (o.kind === 'open') await closeSocket(o.ws);
  });

  it('refuses without credentials (401), from a foreign Origin (403), and paths other than /websockify', async () => {
    expect(await openConsoleSocket(base)).toEqual({ kind: 'refused', status: 401 });
    expect(await openConsoleSocket(base, { ...AUTH, Origin: 'http://elsewhere.example' })).toEqual({
      kind: 'refused',
      status: 403,
    });
    const other = new WebSocket(base.replace('/websockify', '/other'), { headers: AUTH });
    const error = await new Promise<Error>((r) => other.once('error', r));
    expect(error.message).toMatch(/socket hang up|ECONNRESET/);
    expect(vncSockets).toHaveLength(0);
  });
});
