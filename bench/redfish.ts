// Part 1: Redfish GET /redfish/v1/Systems/1 over HTTPS keep-alive, Basic and session auth, 1 and 64 connections:
// our agent (working tree), our agent before its latest change (git worktree), and sushy-tools' emulator (fake driver).
import { AGENT_PASS, AGENT_USER, basicAuth, type RunningAgent, redfishSession, startAgent } from './lib/agent.ts';
import { checkoutBaseline, headInfo } from './lib/baseline.ts';
import { runLoad } from './lib/http-load.ts';
import { loadAverage } from './lib/proc.ts';
import { SUSHY_PASS, SUSHY_USER, startSushy } from './lib/sushy.ts';
import type { BenchOptions, RedfishResults, RedfishRow } from './lib/types.ts';

export const CONNECTIONS = [1, 64] as const;

function say(line: string): void {
  process.stdout.write(`  redfish: ${line}\n`);
}

function rowOf(
  server: string,
  auth: RedfishRow['auth'],
  connections: number,
  r: Awaited<ReturnType<typeof runLoad>>,
): RedfishRow {
  const row: RedfishRow = {
    server,
    auth,
    connections,
    rps: r.rps,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    requests: r.requests,
    errors: r.errors,
  };
  if (r.firstError !== undefined) row.firstError = r.firstError;
  say(
    `${server} ${auth} c=${connections}: ${r.rps.toFixed(0)} req/s p50 ${r.p50Ms.toFixed(2)} ms p99 ${r.p99Ms.toFixed(2)} ms` +
      `${r.errors ? ` errors ${r.errors} (${r.firstError})` : ''} [load ${loadAverage()[0]}]`,
  );
  return row;
}

export async function benchRedfish(o: BenchOptions): Promise<RedfishResults> {
  const durationMs = o.quick ? 2_000 : 5_000;
  const warmupMs = o.quick ? 300 : 1_000;
  const rows: RedfishRow[] = [];
  const notes: string[] = [];
  const url: Record<string, string> = {};
  const load = (target: string, headers: Record<string, string>, connections: number) =>
    runLoad({ url: target, headers, connections, durationMs, warmupMs });

  const head = await headInfo();
  const headLabel = head.dirty ? 'qemu-bmc (working tree)' : 'qemu-bmc (HEAD)';
  const baseline = await checkoutBaseline();
  const baseLabel = `qemu-bmc (${baseline.short})`;
  const rounds = o.quick ? 1 : 2;
  notes.push(
    `Regression baseline ${baseline.short} ("${baseline.subject}"): the parent of the newest commit that changed ` +
      'bmc-agent/ (BENCH_BASELINE=<rev> overrides), run from a temporary git worktree. ' +
      `${headLabel} is this checkout${head.dirty ? ' including uncommitted changes under bmc-agent/ or operator/' : ''}. ` +
      `Both agents run side by side; each case alternates between them, ${rounds} round(s), best round kept.`,
  );
  const running: { label: string; agent: RunningAgent }[] = [];
  try {
    running.push({ label: headLabel, agent: await startAgent(process.cwd(), o.workDir, 'head') });
    running.push({ label: baseLabel, agent: await startAgent(baseline.root, o.workDir, 'baseline') });
    const tokens = await Promise.all(running.map((r) => redfishSession(r.agent.redfishUrl, AGENT_USER, AGENT_PASS)));
    const best = new Map<string, RedfishRow>();
    for (let round = 0; round < rounds; round++) {
      for (const auth of ['basic', 'session'] as const) {
        for (const c of CONNECTIONS) {
          for (const [i, r] of running.entries()) {
            const target = `${r.agent.redfishUrl}/redfish/v1/Systems/1`;
            url[r.label] = '/redfish/v1/Systems/1';
            const headers: Record<string, string> =
              auth === 'basic'
                ? { Authorization: basicAuth(AGENT_USER, AGENT_PASS) }
                : { 'X-Auth-Token': tokens[i] ?? '' };
            const row = rowOf(r.label, auth, c, await load(target, headers, c));
            const key = `${r.label}|${auth}|${c}`;
            const prev = best.get(key);
            if (!prev || row.rps > prev.rps) best.set(key, row);
          }
        }
      }
    }
    rows.push(...best.values());
  } finally {
    for (const r of running) await r.agent.stop();
    await baseline.remove();
  }

  for (const withAuth of [true, false]) {
    const sushy = await startSushy(o.workDir, withAuth);
    try {
      url['sushy-tools'] = `/redfish/v1/Systems/<fake uuid>`;
      for (const c of CONNECTIONS) {
        const headers: Record<string, string> = withAuth ? { Authorization: basicAuth(SUSHY_USER, SUSHY_PASS) } : {};
        rows.push(rowOf('sushy-tools', withAuth ? 'basic' : 'none', c, await load(sushy.systemUrl, headers, c)));
      }
    } finally {
      await sushy.stop();
    }
  }
  notes.push(
    'sushy-tools 2.2.0 (`sushy-emulator --fake`, Flask/werkzeug threaded server, TLS from SUSHY_EMULATOR_SSL_CERT/KEY) ' +
      'has no SessionService: X-Auth-Token is not supported. Its "basic" rows check an htpasswd bcrypt hash (cost 5) on ' +
      'every request; its "none" rows run without an auth file and stand in for the session rows.',
    'Load generator: Node 24 node:https, one keep-alive socket per connection, closed loop (next request when the ' +
      `previous response is read), ${warmupMs} ms warm-up then ${durationMs} ms measured; it shares the 2 cores with the server.`,
  );
  return { url, durationMs, rows, notes };
}
