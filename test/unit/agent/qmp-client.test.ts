// QMP framing cases real QEMU does not produce on demand: replies split across packets and out of order, events
// between replies, a silent peer, garbage, and a peer that restarts. Served by a tiny in-test QMP server.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QmpClient, QmpConnectionError, QmpError, type QmpEvent } from '../../../bmc-agent/src/qmp/client.ts';

type Handler = (msg: { execute: string; id: string; arguments?: unknown }, socket: Socket) => void;

let dir: string;
let path: string;
let server: Server | null = null;
const sockets = new Set<Socket>();

function serve(
  handler: Handler,
  greeting = '{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}}, "capabilities": []}}\r\n',
): Promise<void> {
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.write(greeting);
    let buf = '';
    socket.on('data', (d) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const msg = JSON.parse(line);
        if (msg.execute === 'qmp_capabilities') socket.write(`{"return": {}, "id": ${JSON.stringify(msg.id)}}\r\n`);
        else handler(msg, socket);
      }
    });
  });
  return new Promise((resolve) => server!.listen(path, resolve));
}

async function stopServer(): Promise<void> {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = null;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qmp-unit-'));
  path = join(dir, 'qmp.sock');
});
afterEach(async () => {
  await stopServer();
  await rm(dir, { recursive: true, force: true });
});

describe('QmpClient', () => {
  it('negotiates, reads the version, and correlates out-of-order replies split across writes', async () => {
    const held: Array<{ id: string; socket: Socket; execute: string }> = [];
    await serve((msg, socket) => {
      held.push({ id: msg.id, socket, execute: msg.execute });
      if (held.length === 2) {
        // Answer the second first, then the first in two pieces, then an event.
        const [a, b] = held;
        b!.socket.write(`{"return": {"name": "${b!.execute}"}, "id": "${b!.id}"}\r\n`);
        const reply = `{"return": {"name": "${a!.execute}"}, "id": "${a!.id}"}\r\n`;
        a!.socket.write(reply.slice(0, 10));
        setTimeout(() => {
          a!.socket.write(reply.slice(10));
          a!.socket.write(
            '{"event": "RESET", "data": {"guest": false}, "timestamp": {"seconds": 1, "microseconds": 2}}\n',
          );
        }, 20);
      }
    });
    const qmp = new QmpClient({ target: { path } });
    const events: QmpEvent[] = [];
    qmp.on('event', (e) => events.push(e));
    await qmp.connect();
    expect(qmp.version).toEqual({ major: 7, minor: 2, micro: 0 });
    const [first, second] = await Promise.all([qmp.execute('first'), qmp.execute('second')]);
    expect(first).toEqual({ name: 'first' });
    expect(second).toEqual({ name: 'second' });
    for (let i = 0; i < 50 && events.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(events).toEqual([{ event: 'RESET', data: { guest: false }, timestamp: { seconds: 1, microseconds: 2 } }]);
    qmp.close();
  });

  it('turns QEMU errors into QmpError and a silent command into a timeout, without blocking later ones', async () => {
    await serve((msg, socket) => {
      if (msg.execute === 'bad')
        socket.write(`{"error": {"class": "GenericError", "desc": "nope"}, "id": "${msg.id}"}\n`);
      if (msg.execute === 'ok') socket.write(`{"return": 42, "id": "${msg.id}"}\n`);
      // 'silent' gets no reply
    });
    const qmp = new QmpClient({ target: { path }, commandTimeoutMs: 200 });
    await qmp.connect();
    const bad = await qmp.execute('bad').catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(QmpError);
    expect(bad).toMatchObject({ errorClass: 'GenericError', command: 'bad' });
    await expect(qmp.execute('silent')).rejects.toThrow(/no reply within 200 ms/);
    expect(await qmp.execute('ok')).toBe(42);
    qmp.close();
    await expect(qmp.execute('ok')).rejects.toBeInstanceOf(QmpConnectionError);
  });

  it('refuses a peer that does not greet, or sends invalid JSON', async () => {
    await serve(() => {}, '{"hello": 1}\n');
    await expect(new QmpClient({ target: { path } }).connect()).rejects.toThrow(/expected greeting/);
    await stopServer();
    await serve(() => {}, 'not json\n');
    await expect(new QmpClient({ target: { path } }).connect()).rejects.toThrow();
  });

  it('rejects pending commands when the peer goes away, and reconnects with backoff when it returns', async () => {
    await serve(() => {});
    const qmp = new QmpClient({ target: { path }, reconnect: { minDelayMs: 50, maxDelayMs: 200 } });
    let connects = 0;
    qmp.on('connected', () => connects++);
    await qmp.connect();
    const pending = qmp.execute('hang');
    await stopServer();
    await expect(pending).rejects.toBeInstanceOf(QmpConnectionError);
    expect(qmp.connected).toBe(false);
    await serve((msg, socket) => socket.write(`{"return": "back", "id": "${msg.id}"}\n`));
    for (let i = 0; i < 100 && !qmp.connected; i++) await new Promise((r) => setTimeout(r, 20));
    expect(connects).toBe(2);
    expect(await qmp.execute('x')).toBe('back');
    qmp.close();
  });
});
