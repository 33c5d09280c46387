// Starts the Redfish service: TLS credentials, the app, an HTTPS listener; close() stops all of it.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Express, RequestHandler } from 'express';
import { createRedfishApp, type RedfishDeps } from './app.ts';
import type { RedfishContext } from './context.ts';
import type { RedfishPrivilege } from './roles.ts';
import { loadTlsCredentials } from './tls.ts';

export { createRedfishApp, type RedfishApp, type RedfishDeps } from './app.ts';
export type { RedfishConfig } from './config.ts';

export interface RedfishServer {
  server: Server;
  app: Express;
  requireAuth: (privilege?: RedfishPrivilege) => RequestHandler;
  context: RedfishContext;
  /** The port actually bound (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

export async function startRedfishServer(deps: RedfishDeps): Promise<RedfishServer> {
  const tls = await loadTlsCredentials(deps.config, deps.log);
  const redfish = createRedfishApp(deps);
  const server = createServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, redfish.app);
  // Slow or idle clients must not hold sockets forever.
  server.headersTimeout = 30_000;
  server.requestTimeout = 60_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(deps.config.port, deps.config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  redfish.context.listenPort = port;
  deps.log.info({ port, host: deps.config.host ?? '*', tls: tls.source }, 'redfish listening');
  return {
    server,
    app: redfish.app,
    requireAuth: redfish.requireAuth,
    context: redfish.context,
    port,
    close: async () => {
      redfish.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
