// Plain clients for the console endpoints: HTTPS requests that accept the agent's self-signed certificate, and
// WebSocket upgrades to /websockify with the `ws` package (the way a non-browser client would connect).
import { request } from 'node:https';
import WebSocket from 'ws';

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** The BMC account every console test agent starts with (IPMI_USER / IPMI_PASS). */
export const ADMIN_USER = 'admin';
export const ADMIN_PASSWORD = 'console-pw';

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

export function https(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method ?? 'GET', headers: options.headers, rejectUnauthorized: false, timeout: 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer within 30 s`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * A metric's value from the agent's /metrics (the sample whose name and labels start with `series`). /metrics is
 * behind Redfish authentication: the console agent's administrator by default.
 */
export async function metric(
  baseUrl: string,
  series: string,
  authorization = basic(ADMIN_USER, ADMIN_PASSWORD),
): Promise<number | undefined> {
  const { status, body } = await https(`${baseUrl}/metrics`, { headers: { Authorization: authorization } });
  if (status !== 200) throw new Error(`GET ${baseUrl}/metrics answered ${status}`);
  for (const line of body.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(series)) continue;
    const rest = line.slice(series.length);
    if (rest.startsWith(' ')) return Number(rest.trim());
  }
  return undefined;
}

export type UpgradeOutcome =
  | { kind: 'open'; ws: WebSocket /** The first bytes QEMU's VNC server sent through the bridge. */; greeting: string }
  | { kind: 'refused'; status: number };

/**
 * Opens a WebSocket to `url` (wss://…/websockify…). Resolves 'open' once the first binary message arrived (the
 * RFB version string from QEMU, proving the bridge reaches VNC), or 'refused' with the HTTP status of a refused
 * upgrade.
 */
export function openConsoleSocket(url: string, headers: Record<string, string> = {}): Promise<UpgradeOutcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['binary'], { headers, rejectUnauthorized: false, handshakeTimeout: 30_000 });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`${url}: no RFB greeting within 30 s`));
    }, 30_000);
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      res.resume();
      resolve({ kind: 'refused', status: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.once('message', (data: Buffer) => {
      clearTimeout(timer);
      resolve({ kind: 'open', ws, greeting: data.toString('latin1') });
    });
    ws.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    ws.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`${url}: closed (${code}) before the RFB greeting`));
    });
  });
}

/** Closes a socket and waits until it is closed. */
export function closeSocket(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    ws.once('close', () => resolve());
    ws.close();
  });
}

/** Polls `probe` until it returns true; fails after `timeoutMs`. */
export async function until(what: string, probe: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
