// Starts the Redfish service: TLS credentials, the app, an HTTPS listener; close() stops all of it.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Express, RequestHandler } from 'express';
import { createRedfishApp, type RedfishDeps } from './app.ts';
import type { RedfishContext } from './context.ts';
import { baseMessage, errorBody } from './errors.ts';
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
  // Node's parser rejects methods it does not know before express sees them; DSP0266 wants 501, not 400.
  // Other parse errors keep Node's usual answers.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const status =
      err.code === 'HPE_INVALID_METHOD'
        ? '501 Not Implemented'
        : err.code === 'HPE_HEADER_OVERFLOW'
          ? '431 Request Header Fields Too Large'
          : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? '408 Request Timeout'
            : '400 Bad Request';
    const body = JSON.stringify(
      errorBody([baseMessage(status.startsWith('501') ? 'OperationNotAllowed' : 'UnrecognizedRequestBody')]),
    );
    socket.end(
      `HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nOData-Version: 4.0\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
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
