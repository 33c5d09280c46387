// EventService push subscriptions, delivered to a real HTTP receiver on loopback.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type Harness, messageIds, startHarness } from './support.ts';

const SUBS = '/redfish/v1/EventService/Subscriptions';

interface Received {
  body: { Context?: string; Events: Array<{ MessageId: string; OriginOfCondition: { '@odata.id': string } }> };
  headers: IncomingMessage['headers'];
}

describe('Redfish event subscriptions', () => {
  let h: Harness;
  let receiver: Server;
  let destination: string;
  const received: Received[] = [];
  const waiters: Array<() => void> = [];
  let failNext = 0;
  const arrival = () => new Promise<void>((r) => waiters.push(r));

  beforeAll(async () => {
    h = await startHarness();
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (failNext > 0) {
          failNext--;
          res.writeHead(503).end();
          return;
        }
        received.push({ body: JSON.parse(Buffer.concat(chunks).toString('utf8')), headers: req.headers });
        res.writeHead(204).end();
        waiters.shift()?.();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    destination = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/events`;
  });
  afterAll(async () => {
    await h.close();
    await new Promise<void>((r) => receiver.close(() => r()));
  });

  it('creates a subscription and pushes events to it, with its Context', async () => {
    const created = await call(h.server.port, 'POST', SUBS, {
      body: { Destination: destination, Protocol: 'Redfish', Context: 'maas-42', RegistryPrefixes: ['ResourceEvent'] },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.headers.location).toBe(`${SUBS}/${created.json.Id}`);
    expect(created.json).toMatchObject({ Destination: destination, Protocol: 'Redfish', Context: 'maas-42' });
    const list = await call(h.server.port, 'GET', SUBS);
    expect(list.json.Members).toEqual([{ '@odata.id': created.headers.location }]);

    const got = arrival();
    await call(h.server.port, 'POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', {
      body: { ResetType: 'On' },
    });
    await got;
    const event = received.at(-1);
    expect(event?.headers['content-type']).toBe('application/json');
    expect(event?.body.Context).toBe('maas-42');
    expect(event?.body.Events[0]?.MessageId).toMatch(/^ResourceEvent\.\d+\.\d+\.\d+\.ResourcePoweredOn$/);

    // A destination that fails is retried.
    failNext = 1;
    const retried = arrival();
    await call(h.server.port, 'POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', {
      body: { ResetType: 'ForceOff' },
    });
    await retried;
    expect(received.at(-1)?.body.Events[0]?.MessageId).toMatch(/ResourcePoweredOff$/);

    // After DELETE the subscriber gets nothing more; a second subscriber shows delivery itself still works.
    expect((await call(h.server.port, 'DELETE', created.headers.location as string)).status).toBe(204);
    const before = received.length;
    await call(h.server.port, 'POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', {
      body: { ResetType: 'On' },
    });
    const other = await call(h.server.port, 'POST', SUBS, {
      body: { Destination: `${destination}/2`, Protocol: 'Redfish' },
    });
    const got2 = arrival();
    await call(h.server.port, 'POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', {
      body: { ResetType: 'ForceOff' },
    });
    await got2;
    expect(received.length).toBe(before + 1);
    expect(received.at(-1)?.body.Context).toBeUndefined();
    await call(h.server.port, 'DELETE', other.headers.location as string);
  });

  it('refuses bad subscriptions and non-administrators', async () => {
    const cases: Array<[unknown, string[]]> = [
      [{ Destination: destination, Protocol: 'FTP' }, ['PropertyValueNotInList']],
      [{ Destination: 'file:///etc/passwd', Protocol: 'Redfish' }, ['PropertyValueFormatError']],
      [{ Destination: 'http://user:pw@127.0.0.1/x', Protocol: 'Redfish' }, ['PropertyValueFormatError']],
      [{ Protocol: 'Redfish' }, ['PropertyMissing']],
      [
        { Destination: destination, Protocol: 'Redfish', RegistryPrefixes: 'ResourceEvent' },
        ['PropertyValueTypeError'],
      ],
      [{ Destination: destination, Protocol: 'Redfish', HttpHeaders: [] }, ['PropertyUnknown']],
    ];
    for (const [body, ids] of cases) {
      const r = await call(h.server.port, 'POST', SUBS, { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(messageIds(r)).toEqual(ids);
    }
    const op = await call(h.server.port, 'POST', SUBS, {
      auth: 'operator:oppass',
      body: { Destination: destination, Protocol: 'Redfish' },
    });
    expect(op.status).toBe(403);
    expect((await call(h.server.port, 'GET', SUBS)).json.Members).toEqual([]);
  });
});

describe('Redfish event subscriptions with REDFISH_EVENT_DESTINATIONS', () => {
  it('delivers to allowed destinations only; refused ones are counted, never sent, and creation still succeeds', async () => {
    // Two loopback receivers: 127.0.0.2 is allowed, 127.0.0.1 is not.
    const got: Record<string, number> = { allowed: 0, refused: 0 };
    const arrivals: Array<() => void> = [];
    const receivers = await Promise.all(
      (['127.0.0.2', '127.0.0.1'] as const).map(async (host, i) => {
        const server = createServer((req, res) => {
          req.resume();
          req.on('end', () => {
            got[i === 0 ? 'allowed' : 'refused'] = (got[i === 0 ? 'allowed' : 'refused'] ?? 0) + 1;
            res.writeHead(204).end();
            arrivals.shift()?.();
          });
        });
        await new Promise<void>((r) => server.listen(0, host, r));
        return { server, url: `http://${host}:${(server.address() as AddressInfo).port}/events` };
      }),
    );
    const h = await startHarness({ eventDestinations: ['127.0.0.2/32', '::1'] });
    const count = async (result: string) =>
      (await h.registry.getSingleMetric('redfish_event_deliveries_total')?.get())?.values.find(
        (v) => v.labels['result'] === result,
      )?.value ?? 0;
    const refusedCount = () => count('refused-by-policy');
    try {
      for (const Destination of receivers.map((r) => r.url)) {
        const created = await call(h.server.port, 'POST', SUBS, { body: { Destination, Protocol: 'Redfish' } });
        // Creation is not refused: the DMTF Protocol Validator requires 201 for an arbitrary destination.
        expect(created.status, created.text).toBe(201);
      }
      for (const [i, ResetType] of ['On', 'ForceOff'].entries()) {
        const arrived = new Promise<void>((r) => arrivals.push(r));
        await call(h.server.port, 'POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', {
          body: { ResetType },
        });
        await arrived;
        // 127.0.0.1 is refused at each event; bounded wait for the asynchronous decision.
        for (let n = 0; n < 100 && (await refusedCount()) < i + 1; n++) await new Promise((r) => setTimeout(r, 20));
        expect(await refusedCount()).toBe(i + 1);
      }
      expect(got.allowed).toBe(2);
      expect(got.refused).toBe(0);
      // The sender counts a delivery once the receiver's answer is back.
      for (let n = 0; n < 100 && (await count('delivered')) < 2; n++) await new Promise((r) => setTimeout(r, 20));
      const text = await h.registry.metrics();
      expect(text).toContain('redfish_event_deliveries_total{result="delivered"} 2');
      expect(text).toContain('redfish_event_deliveries_total{result="refused-by-policy"} 2');
    } finally {
      await h.close();
      for (const r of receivers) await new Promise<void>((done) => r.server.close(() => done()));
    }
  });
});
