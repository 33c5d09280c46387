// Watch recovery of the operator's caches, against a loopback HTTP server that speaks the apiserver's list/watch
// protocol and misbehaves on purpose (410 Gone, failed watches) — things a real apiserver does not do on demand.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeClient } from '../../../operator/src/kube/client.ts';
import { WatchedCache } from '../../../operator/src/kube/informer.ts';
import type { KubeObject } from '../../../operator/src/kube/objects.ts';

const obj = (name: string, rv: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'lab', resourceVersion: rv },
});

interface Script {
  lists: { items: KubeObject[]; rv: string; continue?: string }[];
  /** One entry per watch request: lines to send (then close), or an HTTP status to fail with. */
  watches: (string[] | number)[];
}

async function fakeApiserver(script: Script) {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.searchParams.get('watch') === 'true') {
      seen.push(
        `watch rv=${url.searchParams.get('resourceVersion')}` +
          (url.searchParams.get('allowWatchBookmarks') === 'true' ? '' : ' (no bookmarks)'),
      );
      const next = script.watches.shift();
      if (next === undefined) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return; // stays open and silent
      }
      if (typeof next === 'number') {
        res.writeHead(next, { 'content-type': 'application/json' }).end('{"kind":"Status","code":500}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      for (const line of next) res.write(`${line}\n`);
      res.end();
      return;
    }
    const cont = url.searchParams.get('continue');
    seen.push(cont ? `list continue=${cont} limit=${url.searchParams.get('limit')}` : 'list');
    const list = script.lists.shift() ?? { items: [], rv: '999' };
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ items: list.items, metadata: { resourceVersion: list.rv, continue: list.continue } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  const client = new KubeClient({
    server: new URL(`http://127.0.0.1:${port}`),
    tls: { rejectUnauthorized: true },
    headers: () => ({}),
  });
  return {
    client,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function eventually(check: () => boolean, attempts = 200): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('condition not reached');
}

const log = pino({ level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('watched cache recovery', () => {
  it('relists after 410 Gone and reports objects that vanished meanwhile as deleted', async () => {
    const api = await fakeApiserver({
      lists: [
        { items: [obj('a', '5'), obj('b', '6')], rv: '10' },
        { items: [obj('a', '15'), obj('c', '16')], rv: '20' },
      ],
      watches: [[JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } })]],
    });
    cleanups.push(api.close);
    const events: string[] = [];
    const cache = new WatchedCache<KubeObject>(api.client, '/api/v1/services', undefined, log, (t, o) =>
      events.push(`${t} ${o.metadata.name}`),
    );
    cleanups.push(() => cache.stop());
    await cache.start();
    expect(cache.synced()).toBe(true);
    await eventually(() => cache.get('lab', 'c') !== undefined);
    expect(cache.get('lab', 'b')).toBeUndefined();
    expect(
      cache
        .list()
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(['a', 'c']);
    expect(events).toEqual(expect.arrayContaining(['add a', 'add b', 'delete b', 'update a', 'add c']));
    // list → watch from 10 → (410) → list → watch from 20
    await eventually(() => api.seen.length >= 4);
    expect(api.seen.slice(0, 4)).toEqual(['list', 'watch rv=10', 'list', 'watch rv=20']);
  });

  it('restarts a watch that failed with a server error, resuming from the last resourceVersion', async () => {
    const api = await fakeApiserver({
      lists: [{ items: [obj('a', '5')], rv: '10' }],
      watches: [[JSON.stringify({ type: 'ADDED', object: obj('b', '11') })], 500],
    });
    cleanups.push(api.close);
    const cache = new WatchedCache<KubeObject>(api.client, '/api/v1/services', undefined, log, () => {});
    cleanups.push(() => cache.stop());
    await cache.start();
    await eventually(() => cache.get('lab', 'b') !== undefined);
    // After the 500 the informer stopped; WatchedCache restarts it and the cache keeps serving meanwhile.
    await eventually(() => api.seen.filter((s) => s.startsWith('watch')).length >= 3, 400);
    expect(api.seen[0]).toBe('list');
    expect(api.seen.filter((s) => s.startsWith('watch')).slice(0, 2)).toEqual(['watch rv=10', 'watch rv=11']);
    expect(cache.get('lab', 'a')).toBeDefined();
  });

  it('pages through a long list and resumes a watch from the last bookmark', async () => {
    const api = await fakeApiserver({
      lists: [
        { items: [obj('a', '5')], rv: '10', continue: 'page2' },
        { items: [obj('b', '6')], rv: '10' },
      ],
      watches: [
        [JSON.stringify({ type: 'BOOKMARK', object: { kind: 'Service', metadata: { resourceVersion: '30' } } })],
      ],
    });
    cleanups.push(api.close);
    const events: string[] = [];
    const cache = new WatchedCache<KubeObject>(api.client, '/api/v1/services', undefined, log, (t, o) =>
      events.push(`${t} ${o.metadata.name}`),
    );
    cleanups.push(() => cache.stop());
    await cache.start();
    expect(events).toEqual(['add a', 'add b']);
    await eventually(() => api.seen.length >= 4);
    expect(api.seen.slice(0, 4)).toEqual(['list', 'list continue=page2 limit=250', 'watch rv=10', 'watch rv=30']);
    expect(cache.list().length).toBe(2);
  });
});
