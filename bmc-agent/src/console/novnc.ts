// The browser console on the Redfish port: a small page using noVNC's RFB client straight from the
// @novnc/novnc package (no vendored copy), and a WebSocket proxy at /websockify to QEMU's VNC server.
// Every route and the WebSocket upgrade require the BMC credentials (or a one-time ticket from the page).
import type { IncomingMessage } from 'node:http';
import { dirname, join } from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import express, { type Router } from 'express';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { WebSocketServer } from 'ws';
import { ConsoleTickets } from './tickets.ts';
import { bridgeToVnc } from './vnc-proxy.ts';

export interface ConsoleDeps {
  /** "host:port" of QEMU's VNC server (VNC_ADDR). */
  vncAddress: string;
  /** True when the request carries valid BMC credentials (Basic or a Redfish session token). */
  authorize: (req: IncomingMessage) => boolean | Promise<boolean>;
  maxConsoles: number;
  log: Logger;
  registry: Registry;
}

export interface ConsoleService {
  /** Mount at the app root, behind nothing: it authenticates its own routes. */
  router: Router;
  /** Wire to the HTTPS server's 'upgrade' event; returns false when the path is not ours. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  closeAll(): void;
}

const novncRoot = dirname(dirname(fileURLToPath(import.meta.resolve('@novnc/novnc'))));
const pageRoot = join(dirname(fileURLToPath(import.meta.url)), 'page');

export function parseHostPort(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value.trim());
  const port = match ? Number(match[3]) : Number.NaN;
  if (!match || port < 1 || port > 65535) throw new Error(`expected host:port, got "${value}"`);
  return { host: match[1] ?? (match[2] || 'localhost'), port };
}

/** False when the request names an Origin whose host:port differs from the Host it was sent to. */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

function rejectUpgrade(socket: Duplex, status: number, text: string, extra = ''): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n${extra}\r\n`);
}

export function createConsoleService(deps: ConsoleDeps): ConsoleService {
  const target = parseHostPort(deps.vncAddress);
  const tickets = new ConsoleTickets();
  const log = deps.log.child({ component: 'console' });
  const wss = new WebSocketServer({
    noServer: true,
    // noVNC may offer the legacy 'binary' subprotocol; frames are binary either way.
    handleProtocols: (protocols) => (protocols.has('binary') ? 'binary' : false),
  });
  const active = new Gauge({ name: 'qemubmc_console_active', help: 'Open noVNC consoles', registers: [deps.registry] });
  new Gauge({
    name: 'qemubmc_console_limit',
    help: 'Most noVNC consoles open at once; more are refused with 503',
    registers: [deps.registry],
  }).set(deps.maxConsoles);
  const bytes = new Counter({
    name: 'qemubmc_console_bytes_total',
    help: 'Bytes bridged between browsers and the VNC server',
    labelNames: ['direction'],
    registers: [deps.registry],
  });
  const opened = new Counter({
    name: 'qemubmc_console_connections_total',
    help: 'Console WebSocket upgrades by result',
    labelNames: ['result'],
    registers: [deps.registry],
  });
  let open = 0;

  const requireAuth: express.RequestHandler = async (req, res, next) => {
    if (await deps.authorize(req)) return next();
    res
      .status(401)
      .set('WWW-Authenticate', 'Basic realm="qemu-bmc"')
      .json({ error: { code: 'Base.1.0.NoValidSession', message: 'Credentials are required for the console.' } });
  };

  const router = express.Router();
  router.get(['/novnc', '/novnc/'], requireAuth, (_req, res) => res.redirect(302, '/novnc/vnc.html'));
  router.get('/novnc/vnc.html', requireAuth, (_req, res, next) => {
    // The ticket travels in the query string of the page the browser is sent to.
    if (typeof _req.query['ticket'] === 'string') {
      res.sendFile(
        join(pageRoot, 'vnc.html'),
        { headers: { 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' } },
        next,
      );
      return;
    }
    res.redirect(302, `/novnc/vnc.html?ticket=${tickets.issue()}`);
  });
  router.get('/novnc/console.js', requireAuth, (_req, res, next) => res.sendFile(join(pageRoot, 'console.js'), next));
  router.use('/novnc/core', requireAuth, express.static(join(novncRoot, 'core'), { fallthrough: false }));
  router.use('/novnc/vendor', requireAuth, express.static(join(novncRoot, 'vendor'), { fallthrough: false }));

  const handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): boolean => {
    const url = new URL(req.url ?? '/', 'http://local');
    if (url.pathname !== '/websockify') return false;
    let reserved = false;
    void (async () => {
      // A browser attaches cached Basic credentials to any page's WebSocket to this host, so a page from another
      // origin must not get a console (cross-site WebSocket hijacking). Non-browser clients send no Origin.
      if (!sameOrigin(req)) {
        opened.inc({ result: 'forbidden' });
        rejectUpgrade(socket, 403, 'Forbidden');
        return;
      }
      const ticket = url.searchParams.get('ticket');
      const allowed = (ticket !== null && tickets.consume(ticket)) || (await deps.authorize(req));
      if (!allowed) {
        opened.inc({ result: 'unauthorized' });
        rejectUpgrade(socket, 401, 'Unauthorized', 'WWW-Authenticate: Basic realm="qemu-bmc"\r\n');
        return;
      }
      if (open >= deps.maxConsoles) {
        opened.inc({ result: 'limit' });
        rejectUpgrade(socket, 503, 'Service Unavailable');
        return;
      }
      // The slot is taken before the handshake completes, so concurrent upgrades cannot overshoot the limit.
      open++;
      reserved = true;
      active.set(open);
      const release = () => {
        if (!reserved) return;
        reserved = false;
        open--;
        active.set(open);
      };
      // A handshake ws aborts (bad headers, the client gone) never reaches the callback: the socket's close frees it.
      socket.once('close', release);
      if (socket.destroyed) return release();
      wss.handleUpgrade(req, socket, head, (ws) => {
        opened.inc({ result: 'opened' });
        log.info({ remote: req.socket.remoteAddress }, 'console opened');
        bridgeToVnc(ws, target, {
          onBytes: (direction, count) => bytes.inc({ direction }, count),
          onClose: () => {
            release();
            log.info('console closed');
          },
        });
      });
    })().catch((err: unknown) => {
      log.error({ err }, 'console upgrade failed');
      socket.destroy();
    });
    return true;
  };

  return {
    router,
    handleUpgrade,
    closeAll: () => {
      for (const client of wss.clients) client.terminate();
    },
  };
}
