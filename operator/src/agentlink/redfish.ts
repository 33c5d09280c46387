// Minimal Redfish client for the operator's side of the agent link: HTTPS pinned to the certificate the operator
// issued to that agent (so credentials only ever go to it), Basic auth, JSON GETs and an SSE stream.

import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import { createSecureContext, type SecureContext } from 'node:tls';

export interface AgentTarget {
  /** host:port of the agent's Redfish service. */
  address: string;
  /** PEM certificate the agent must present (issued by the operator; a self-signed CA certificate). */
  cert: string;
  username: string;
  password: string;
}

const REQUEST_TIMEOUT_MS = 5_000;

function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(address.slice(i + 1)) };
}

// Building a TLS context parses the CA every time; with 1,000 agent links retrying it was ~40% of the operator's
// CPU (bench/profile.ts). One context per pinned certificate, dropped with the last link that uses it.
const contexts = new Map<string, WeakRef<SecureContext>>();

function secureContextFor(cert: string): SecureContext {
  const cached = contexts.get(cert)?.deref();
  if (cached) return cached;
  const context = createSecureContext({ ca: cert });
  contexts.set(cert, new WeakRef(context));
  if (contexts.size > 4096) for (const [k, ref] of contexts) if (!ref.deref()) contexts.delete(k);
  return context;
}

/** https passes these through to tls.connect, which takes a prepared context; @types/node does not say so. */
type PinnedRequestOptions = https.RequestOptions & { secureContext: SecureContext };

function options(target: AgentTarget, path: string, accept: string): PinnedRequestOptions {
  const { host, port } = splitAddress(target.address);
  return {
    host,
    port,
    path,
    method: 'GET',
    secureContext: secureContextFor(target.cert),
    // The certificate is pinned by `ca` (it is its own CA); its names cannot match every address the
    // agent is reached at (Service IP, test override), so the host name check is the pin itself.
    checkServerIdentity: () => undefined,
    agent: false,
    auth: `${target.username}:${target.password}`,
    headers: { accept },
  };
}

export function getJson(target: AgentTarget, path: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const req = https.request(options(target, path, 'application/json'), (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`GET ${path}: HTTP ${res.statusCode}`));
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
        } catch {
          reject(new Error(`GET ${path}: response is not JSON`));
        }
      });
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`GET ${path}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

export interface EventStream {
  close(): void;
}

/**
 * Opens a server-sent-event stream; onEvent gets each event's data, onEnd is called once when the stream
 * ends for any reason (including close()). Silence longer than idleMs (the agent sends keep-alives) ends it.
 */
export function openEventStream(
  target: AgentTarget,
  path: string,
  idleMs: number,
  onOpen: () => void,
  onEvent: (data: string) => void,
  onEnd: (err: Error) => void,
): EventStream {
  let ended = false;
  const end = (err: Error) => {
    if (ended) return;
    ended = true;
    req.destroy();
    onEnd(err);
  };
  const req = https.request(options(target, path, 'text/event-stream'), (res: IncomingMessage) => {
    if (res.statusCode !== 200) {
      res.resume();
      return end(new Error(`GET ${path}: HTTP ${res.statusCode}`));
    }
    // Connected: from now on only silence (no event, no keep-alive) ends the stream.
    req.setTimeout(idleMs, () => end(new Error(`event stream silent for ${idleMs} ms`)));
    onOpen();
    res.setEncoding('utf8');
    let buffer = '';
    res.on('data', (chunk: string) => {
      buffer += chunk.replace(/\r\n?/g, '\n');
      if (buffer.length > 1_048_576) return end(new Error('event stream: event larger than 1 MiB'));
      for (let sep = buffer.indexOf('\n\n'); sep >= 0; sep = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, sep);
        buffer = buffer.slice(sep + 2);
        const data = block
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).replace(/^ /, ''))
          .join('\n');
        if (data) onEvent(data);
      }
    });
    res.on('end', () => end(new Error('event stream closed by the agent')));
    res.on('error', (err) => end(err));
  });
  req.setTimeout(REQUEST_TIMEOUT_MS, () => end(new Error(`no answer from the agent within ${REQUEST_TIMEOUT_MS} ms`)));
  req.on('error', (err) => end(err));
  req.end();
  return { close: () => end(new Error('closed')) };
}
