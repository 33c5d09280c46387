// /healthz (the process serves requests), /readyz (leader with synced caches, or a standby), /metrics.
// The probes answer anyone (the kubelet cannot authenticate, and they tell only "ok" or why not ready);
// /metrics answers only whom the authorizer lets in.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { MetricsAuthorizer } from './metrics-auth.ts';

export interface HealthServer {
  address(): AddressInfo;
  close(): Promise<void>;
}

export async function startHealthServer(
  listen: { host: string; port: number },
  registry: Registry,
  ready: () => { ok: boolean; reason: string },
  /** Undefined: /metrics is open (METRICS_AUTH=none). */
  authorizer?: MetricsAuthorizer,
): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const r = ready();
      res.writeHead(r.ok ? 200 : 503, { 'content-type': 'text/plain' }).end(`${r.reason}\n`);
    } else if (path === '/metrics') {
      const allowed = authorizer
        ? authorizer.authorize(req.headers.authorization)
        : Promise.resolve({ status: 200 as const, reason: '' });
      allowed
        .then(async (decision) => {
          if (decision.status !== 200) {
            const headers: Record<string, string> = { 'content-type': 'text/plain' };
            if (decision.status === 401) headers['www-authenticate'] = 'Bearer realm="qemu-bmc-operator"';
            res.writeHead(decision.status, headers).end(`${decision.reason}\n`);
            return;
          }
          const text = await registry.metrics();
          res.writeHead(200, { 'content-type': registry.contentType }).end(text);
        })
        .catch((err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  return {
    address: () => server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
