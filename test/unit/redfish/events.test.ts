// EventService SSE: machine changes arrive as Redfish Events on an open stream.
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type Harness, startHarness } from './support.ts';

interface Stream {
  status: number;
  contentType: string | undefined;
  next(): Promise<Record<string, unknown>>;
  close(): void;
}

/** Opens the SSE URI and yields parsed `data:` payloads in order. */
function openStream(port: number, auth: string): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/redfish/v1/EventService/SSE',
        headers: { Authorization: `Basic ${Buffer.from(auth).toString('base64')}`, Accept: 'text/event-stream' },
        rejectUnauthorized: false,
        agent: false,
      },
      (res) => {
        let buffer = '';
        const events: Record<string, unknown>[] = [];
        const waiters: Array<(e: Record<string, unknown>) => void> = [];
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          for (let i = buffer.indexOf('\n\n'); i >= 0; i = buffer.indexOf('\n\n')) {
            const block = buffer.slice(0, i);
            buffer = buffer.slice(i + 2);
            const data = block
              .split('\n')
              .filter((l) => l.startsWith('data: '))
              .map((l) => l.slice(6))
              .join('\n');
            if (!data) continue;
            const event = JSON.parse(data) as Record<string, unknown>;
            const w = waiters.shift();
            if (w) w(event);
            else events.push(event);
          }
        });
        resolve({
          status: res.statusCode ?? 0,
          contentType: res.headers['content-type'],
          next: () => {
            const e = events.shift();
            return e ? Promise.resolve(e) : new Promise((r) => waiters.push(r));
          },
          close: () => req.destroy(),
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('Redfish EventService SSE', () => {
  let h: Harness;
  let port: number;
  beforeAll(async () => {
    h = await startHarness();
    port = h.server.port;
  });
  afterAll(() => h.close());

  it('needs credentials', async () => {
    expect((await call(port, 'GET', '/redfish/v1/EventService/SSE', { auth: false })).status).toBe(401);
  });

  it('streams power, boot and media changes as ResourceEvent messages', async () => {
    const s = await openStream(port, 'reader:readpass');
    expect(s.status).toBe(200);
    expect(s.contentType).toBe('text/event-stream');
    try {
      await call(port, 'POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', { body: { ResetType: 'On' } });
      const power = (await s.next()) as { '@odata.type': string; Events: Array<Record<string, unknown>> };
      expect(power['@odata.type']).toMatch(/^#Event\.v1_\d+_\d+\.Event$/);
      expect(power.Events[0]).toMatchObject({
        MessageId: expect.stringMatching(/^ResourceEvent\.1\.\d+\.\d+\.ResourcePoweredOn$/),
        OriginOfCondition: { '@odata.id': '/redfish/v1/Systems/1' },
        MessageArgs: ['/redfish/v1/Systems/1'],
      });
      await call(port, 'PATCH', '/redfish/v1/Systems/1', { body: { Boot: { BootSourceOverrideTarget: 'Pxe' } } });
      const boot = (await s.next()) as { Events: Array<Record<string, unknown>> };
      expect(boot.Events[0]?.MessageId).toMatch(/\.ResourceChanged$/);
      await call(port, 'POST', '/redfish/v1/Managers/1/VirtualMedia/CD1/Actions/VirtualMedia.InsertMedia', {
        body: { Image: 'http://192.0.2.1/a.iso' },
      });
      const media = (await s.next()) as { Events: Array<Record<string, unknown>> };
      expect(media.Events[0]?.OriginOfCondition).toEqual({ '@odata.id': '/redfish/v1/Managers/1/VirtualMedia/CD1' });
    } finally {
      s.close();
    }
  });

  it('close() of the server ends open streams', async () => {
    const other = await startHarness();
    const s = await openStream(other.server.port, 'admin:password');
    expect(other.server.context.events.streamCount).toBe(1);
    await other.close();
    expect(other.server.context.events.streamCount).toBe(0);
    s.close();
  });
});
