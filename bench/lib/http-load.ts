// Closed-loop HTTP(S) load generator: `connections` workers, each with its own keep-alive socket, each sending the
// next GET as soon as the previous response has been read. Latency is measured per request, from write to the last
// body byte. Only 2xx responses count; anything else is an error (and counted, never retried).
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface LoadOptions {
  url: string;
  headers: Record<string, string>;
  connections: number;
  durationMs: number;
  warmupMs: number;
}

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  /** First error seen, to explain a bad run. */
  firstError?: string;
}

export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}

function getOnce(u: URL, agent: HttpAgent, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const req = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const r = req(
      u,
      { agent, method: 'GET', headers, rejectUnauthorized: false, timeout: 10_000 } as Parameters<
        typeof httpsRequest
      >[1],
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(new Error('request timeout')));
    r.on('error', reject);
    r.end();
  });
}

/** One GET (its own short-lived agent); resolves whatever the status. */
export async function fetchOnce(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const u = new URL(url);
  const req = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const r = req(
      u,
      {
        method: init.method ?? 'GET',
        headers: { ...(init.headers ?? {}), ...(init.body ? { 'Content-Type': 'application/json' } : {}) },
        rejectUnauthorized: false,
        timeout: 5_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(new Error('request timeout')));
    r.on('error', reject);
    r.end(init.body);
  });
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const u = new URL(o.url);
  const AgentClass = u.protocol === 'https:' ? HttpsAgent : HttpAgent;
  const agent = new AgentClass({ keepAlive: true, maxSockets: o.connections, maxFreeSockets: o.connections });
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const measureFrom = start + o.warmupMs;
  const end = measureFrom + o.durationMs;
  let measuredStart = Number.NaN;
  const worker = async (): Promise<void> => {
    while (true) {
      const t0 = performance.now();
      if (t0 >= end) return;
      try {
        const { status, body } = await getOnce(u, agent, o.headers);
        const t1 = performance.now();
        if (status < 200 || status > 299) {
          errors++;
          firstError ??= `HTTP ${status}: ${body.slice(0, 200)}`;
          if (errors > 1000) return;
        } else if (t0 >= measureFrom && t1 <= end) {
          if (Number.isNaN(measuredStart)) measuredStart = t0;
          latencies.push(t1 - t0);
        }
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
        if (errors > 1000) return;
      }
    }
  };
  await Promise.all(Array.from({ length: o.connections }, worker));
  agent.destroy();
  const sorted = Float64Array.from(latencies).sort();
  const seconds = o.durationMs / 1000;
  const sum = latencies.reduce((a, b) => a + b, 0);
  const result: LoadResult = {
    requests: latencies.length,
    errors,
    seconds,
    rps: latencies.length / seconds,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    meanMs: latencies.length ? sum / latencies.length : Number.NaN,
  };
  if (firstError !== undefined) result.firstError = firstError;
  return result;
}
