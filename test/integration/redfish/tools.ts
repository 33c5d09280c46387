// Helpers for the Redfish integration suite: a loopback image server (with Range support, which QEMU's
// curl driver needs), a runner for curl command lines that records every HTTP status, and polling.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { requireCommand } from '../../support/require.ts';

export interface ImageServer {
  url(name: string): string;
  close(): Promise<void>;
}

/** Serves `files` (default: boot.iso, 1 MiB of a pattern: content does not matter for attaching). */
export async function startImageServer(
  files: Record<string, Buffer> = { 'boot.iso': Buffer.alloc(1024 * 1024, 0x5a) },
): Promise<ImageServer> {
  const dir = mkdtempSync(join(tmpdir(), 'redfish-images-'));
  for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
  const app = express();
  app.use(express.static(dir, { acceptRanges: true }));
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: (name) => `http://127.0.0.1:${port}/${name}`,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface CurlRun {
  codes: number[];
  stdout: string;
  stderr: string;
}

/**
 * Runs a bash snippet of curl commands exactly as written, with curl wrapped so each call also reports its
 * HTTP status on stderr; the snippet sees `env` (e.g. BMC, IMAGE_URL).
 */
export function runCurl(snippet: string, env: Record<string, string>): Promise<CurlRun> {
  requireCommand('curl');
  const wrapper = `curl() { command curl --silent --show-error --write-out '%{stderr}QBMC-HTTP %{http_code}\\n' "$@"; }\n`;
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      ['-c', wrapper + snippet],
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err?.killed) return reject(new Error(`curl snippet timed out:\n${snippet}`));
        const codes = [...stderr.matchAll(/^QBMC-HTTP (\d{3})$/gm)].map((m) => Number(m[1]));
        resolve({ codes, stdout, stderr });
      },
    );
  });
}

/** Polls until check() returns true; bounded by attempts, never by a timing assertion. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  attempts = 240,
  delayMs = 500,
): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, delayMs));
  }
  throw new Error(`gave up waiting for ${what}`);
}

export interface EventStream {
  /** The next Redfish Event pushed on the stream (in order). */
  next(): Promise<{ Events: Array<{ MessageId: string; OriginOfCondition: { '@odata.id': string } }> }>;
  close(): void;
}

/** Opens the agent's SSE URI with Basic credentials and parses `data:` lines into Events. */
export function openEventStream(port: number, auth: string): Promise<EventStream> {
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
        if (res.statusCode !== 200) return reject(new Error(`SSE: HTTP ${res.statusCode}`));
        type Event = Awaited<ReturnType<EventStream['next']>>;
        const queue: Event[] = [];
        const waiters: Array<(e: Event) => void> = [];
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          for (let i = buffer.indexOf('\n\n'); i >= 0; i = buffer.indexOf('\n\n')) {
            const data = buffer
              .slice(0, i)
              .split('\n')
              .filter((l) => l.startsWith('data: '))
              .map((l) => l.slice(6))
              .join('\n');
            buffer = buffer.slice(i + 2);
            if (!data) continue;
            const event = JSON.parse(data) as Event;
            const waiter = waiters.shift();
            if (waiter) waiter(event);
            else queue.push(event);
          }
        });
        resolve({
          next: () => {
            const e = queue.shift();
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
