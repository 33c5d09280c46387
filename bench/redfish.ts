// Part 1: Redfish GET /redfish/v1/Systems/1 over HTTPS keep-alive, Basic and session auth, 1 and 64 connections:
// our agent (working tree), our agent before its latest change (git worktree), and sushy-tools' emulator (fake driver).
import { AGENT_PASS, AGENT_USER, basicAuth, redfishSession, startAgent } from './lib/agent.ts';
import { checkoutBaseline } from './lib/baseline.ts';
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

  const agents: { label: string; root: string }[] = [{ label: 'qemu-bmc (HEAD)', root: process.cwd() }];
  const baseline = await checkoutBaseline();
  agents.push({ label: `qemu-bmc (${baseline.short})`, root: baseline.root });
  notes.push(
    `Regression baseline ${baseline.short} ("${baseline.subject}"): the parent of the newest commit that changed ` +
      'bmc-agent/ (BENCH_BASELINE=<rev> overrides), run from a temporary git worktree.',
  );
  try {
    for (const a of agents) {
      const agent = await startAgent(a.root, o.workDir, a.label.includes('HEAD') ? 'head' : 'baseline');
      try {
        const target = `${agent.redfishUrl}/redfish/v1/Systems/1`;
        url[a.label] = '/redfish/v1/Systems/1';
        const token = await redfishSession(agent.redfishUrl, AGENT_USER, AGENT_PASS);
        for (const c of CONNECTIONS)
          rows.push(
            rowOf(a.label, 'basic', c, await load(target, { Authorization: basicAuth(AGENT_USER, AGENT_PASS) }, c)),
          );
        for (const c of CONNECTIONS)
          rows.push(rowOf(a.label, 'session', c, await load(target, { 'X-Auth-Token': token }, c)));
      } finally {
        await agent.stop();
      }
    }
  } finally {
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
