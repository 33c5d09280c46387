// Part 4: the operator at scale on the test control plane (etcd + kube-apiserver + kwok, test/support/cluster.ts),
// a fresh cluster per N. The bench plays the scheduler (the bed has none) by binding pods to the kwok node.
// Every VirtualBMC's agent link points at a closed loopback port (AGENT_ENDPOINTS), so no traffic leaves loopback
// and the steady state is well defined: pod Running, status written for the current generation,
// AgentReachable=False, links retrying with backoff (0.5 s doubling to 30 s).
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { KubeClient, USER_AGENT } from '../operator/src/kube/client.ts';
import { loadKubeConfigFiles } from '../operator/src/kube/config.ts';
import {
  auditArgs,
  BED_APISERVER_ARGS,
  kwokNode,
  metricValue,
  NODE_NAME,
  type OperatorProcess,
  readAudit,
  startOperator,
  WRITE_VERBS,
} from '../operator/testing/cluster-harness.ts';
import { buildOperator, OPERATOR_NODE_FLAGS } from '../scripts/build-operator.ts';
import { type Cluster, startCluster } from '../test/support/cluster.ts';
import { freePort } from '../test/support/ports.ts';
import { summarizeHeapProfileDir, summarizeProfileDir } from './lib/cpuprof.ts';
import { cpuSeconds, loadAverage, peakRssMiB, rssMiB, sleep } from './lib/proc.ts';
import type { BenchOptions, OperatorResults, OperatorRow } from './lib/types.ts';

const NS = 'default';
const CREATE_CONCURRENCY = 16;
const BIND_CONCURRENCY = 16;

function say(line: string): void {
  process.stdout.write(`  operator: ${line}\n`);
}

interface VbmcList {
  items: {
    metadata: { name: string; generation: number };
    status?: { observedGeneration?: number; conditions?: { type: string; status: string }[] };
  }[];
}

/** apiserver_request_total summed by verb. */
async function requestsByVerb(cluster: Cluster): Promise<Record<string, number>> {
  const { stdout } = await cluster.kubectl(['get', '--raw', '/metrics']);
  const out: Record<string, number> = {};
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const verb = /verb="([A-Z]+)"/.exec(line)?.[1];
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (verb && Number.isFinite(value)) out[verb] = (out[verb] ?? 0) + value;
  }
  return out;
}

function diff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d > 0) out[k] = d;
  }
  return out;
}

interface PodList {
  items: { metadata: { name: string }; spec: { nodeName?: string } }[];
}

/**
 * Plays kube-scheduler: binds every unscheduled agent pod to the kwok node, BIND_CONCURRENCY at a time (the test
 * harness's schedulePods binds one by one, which at N = 1000 would add its own tens of seconds to the measurement).
 */
async function bindPods(client: KubeClient): Promise<number> {
  const pods = await client.request<PodList>('GET', `/api/v1/namespaces/${NS}/pods`, {
    query: { labelSelector: 'app.kubernetes.io/managed-by=qemu-bmc-operator' },
  });
  const todo = pods.items.filter((p) => !p.spec.nodeName).map((p) => p.metadata.name);
  let bound = 0;
  await Promise.all(
    Array.from({ length: BIND_CONCURRENCY }, async () => {
      for (let name = todo.shift(); name !== undefined; name = todo.shift()) {
        const body = {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name, namespace: NS },
          target: { apiVersion: 'v1', kind: 'Node', name: NODE_NAME },
        };
        // Already bound or replaced meanwhile: the next round sees the new state.
        await client.request('POST', `/api/v1/namespaces/${NS}/pods/${name}/binding`, { body }).then(
          () => bound++,
          () => undefined,
        );
      }
    }),
  );
  return bound;
}

function vbmc(name: string): unknown {
  return {
    apiVersion: 'qemu-bmc.dev/v1alpha1',
    kind: 'VirtualBMC',
    metadata: { name, namespace: NS },
    spec: { vm: { cpus: 1, memory: '512Mi', disks: [{ name: 'root', size: '1Gi' }] } },
  };
}

/**
 * NODE_OPTIONS for the operator: BENCH_OPERATOR_NODE_OPTIONS as given, plus the profiler of BENCH_OPERATOR_PROFILE:
 * 1 = CPU profile and heap = sampled heap profile, both summarised at the end (bench/lib/cpuprof.ts); snapshot = a
 * V8 heap snapshot at steady, written to the bench's work directory (kept with BENCH_KEEP=1; open it in DevTools).
 */
function nodeOptions(dir: string, workDir: string): { NODE_OPTIONS?: string } {
  const opts = (process.env['BENCH_OPERATOR_NODE_OPTIONS'] ?? '').split(' ').filter(Boolean);
  const profile = process.env['BENCH_OPERATOR_PROFILE'];
  if (profile === '1') opts.push('--cpu-prof', `--cpu-prof-dir=${join(dir, 'prof')}`, '--cpu-prof-interval=500');
  if (profile === 'heap') opts.push('--heap-prof', `--heap-prof-dir=${join(dir, 'prof')}`);
  if (profile === 'snapshot') opts.push('--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${workDir}`);
  return opts.length ? { NODE_OPTIONS: opts.join(' ') } : {};
}

async function runOne(
  o: BenchOptions,
  count: number,
  idleMs: number,
  steadyLimitMs: number,
  args: string[],
): Promise<OperatorRow> {
  const dir = mkdtempSync(join(o.workDir, `operator-${count}-`));
  let cluster: Cluster | undefined;
  let operator: OperatorProcess | undefined;
  const row: OperatorRow = {
    count,
    steadySeconds: null,
    operatorRssMiB: Number.NaN,
    operatorPeakRssMiB: Number.NaN,
    operatorCpuSeconds: Number.NaN,
    operatorHeapUsedMiB: Number.NaN,
    operatorHeapTotalMiB: Number.NaN,
    operatorExternalMiB: Number.NaN,
    apiRequestsByVerb: {},
    operatorRequestsPerVbmc: {},
    idleSeconds: idleMs / 1000,
    idleWrites: Number.NaN,
    idleLeaseWrites: Number.NaN,
    idleCpuSeconds: Number.NaN,
    idleWriteSamples: [],
  };
  try {
    cluster = await startCluster({ kwok: true, apiserverArgs: [...BED_APISERVER_ARGS, ...auditArgs(dir)] });
    await cluster.kubectl(['apply', '-f', 'crds/virtualbmc.yaml']);
    await cluster.kubectl(['wait', '--for=condition=Established', 'crd/virtualbmcs.qemu-bmc.dev', '--timeout=60s']);
    await cluster.kubectl(['apply', '-f', '-'], kwokNode);
    const closedPort = await freePort(); // nothing listens here: every agent link is refused at once
    const names = Array.from({ length: count }, (_, i) => `b${i}`);
    operator = await startOperator(
      cluster,
      dir,
      'op-bench',
      {
        LOG_LEVEL: 'info',
        RESYNC_SECONDS: '30',
        LEASE_DURATION_SECONDS: '15',
        LEASE_RENEW_SECONDS: '5',
        // BENCH_OPERATOR_WORKERS=16: the operator's WORKERS (concurrent reconciles; its default is 16).
        ...(process.env['BENCH_OPERATOR_WORKERS'] ? { WORKERS: process.env['BENCH_OPERATOR_WORKERS'] } : {}),
        AGENT_ENDPOINTS: names.map((n) => `${NS}/${n}=127.0.0.1:${closedPort}`).join(','),
        ...nodeOptions(dir, o.workDir),
      },
      args,
    );
    const pid = operator.child.pid ?? -1;
    await sleep(2_000); // leader election and informer start-up
    // Its own user agent: the audit log's operator requests must not include the bench's creates, binds and polls.
    const client = new KubeClient(await loadKubeConfigFiles([cluster.kubeconfig]), { userAgent: 'qemu-bmc-bench' });
    const cpu0 = cpuSeconds(pid) ?? 0;
    const before = await requestsByVerb(cluster);
    const auditStart = readAudit(dir).length;

    const t0 = performance.now();
    const queue = [...names];
    await Promise.all(
      Array.from({ length: CREATE_CONCURRENCY }, async () => {
        for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
          await client.request('POST', `/apis/qemu-bmc.dev/v1alpha1/namespaces/${NS}/virtualbmcs`, {
            body: vbmc(name),
          });
        }
      }),
    );
    const createdS = (performance.now() - t0) / 1000;
    say(`N=${count}: created in ${createdS.toFixed(1)} s [load ${loadAverage()[0]}]`);

    const deadline = t0 + steadyLimitMs;
    let settled = 0;
    let lastReport = 0;
    while (performance.now() < deadline) {
      await bindPods(client).catch(() => 0);
      const list = await client
        .request<VbmcList>('GET', `/apis/qemu-bmc.dev/v1alpha1/namespaces/${NS}/virtualbmcs`)
        .catch(() => ({ items: [] }) as VbmcList);
      settled = list.items.filter(
        (v) =>
          v.status?.observedGeneration === v.metadata.generation &&
          v.status.conditions?.find((c) => c.type === 'PodScheduled')?.status === 'True' &&
          v.status.conditions?.find((c) => c.type === 'AgentReachable')?.status === 'False',
      ).length;
      if (settled === count) {
        row.steadySeconds = (performance.now() - t0) / 1000;
        break;
      }
      if (performance.now() - lastReport > 15_000) {
        lastReport = performance.now();
        say(
          `N=${count}: ${settled}/${count} steady after ${((performance.now() - t0) / 1000).toFixed(0)} s, ` +
            `operator RSS ${(rssMiB(pid) ?? 0).toFixed(0)} MiB [load ${loadAverage()[0]}]`,
        );
      }
      await sleep(1_000);
    }
    const after = await requestsByVerb(cluster);
    row.apiRequestsByVerb = diff(after, before);
    row.operatorRssMiB = rssMiB(pid) ?? Number.NaN;
    row.operatorPeakRssMiB = peakRssMiB(pid) ?? Number.NaN;
    row.operatorCpuSeconds = (cpuSeconds(pid) ?? Number.NaN) - cpu0;
    const metrics = await operator.metrics().catch(() => '');
    const mib = (name: string): number => (metricValue(metrics, name) ?? Number.NaN) / 2 ** 20;
    row.operatorHeapUsedMiB = mib('qemu_bmc_operator_nodejs_heap_size_used_bytes');
    row.operatorHeapTotalMiB = mib('qemu_bmc_operator_nodejs_heap_size_total_bytes');
    row.operatorExternalMiB = mib('qemu_bmc_operator_nodejs_external_memory_bytes');
    const spaces: Record<string, { used: number; total: number }> = {};
    for (const m of metrics.matchAll(
      /^qemu_bmc_operator_nodejs_heap_space_size_(used|total)_bytes\{space="(\w+)"\} (\S+)$/gm,
    )) {
      const [, kind, space, value] = m as unknown as [string, 'used' | 'total', string, string];
      spaces[space] ??= { used: 0, total: 0 };
      spaces[space][kind] = Number(value) / 2 ** 20;
    }
    row.operatorHeapSpacesMiB = spaces;
    const status = (() => {
      try {
        return readFileSync(`/proc/${pid}/status`, 'utf8');
      } catch {
        return '';
      }
    })();
    const kib = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) / 1024;
    row.operatorRssAnonMiB = kib('RssAnon');
    row.operatorRssFileMiB = kib('RssFile');
    say(
      `N=${count}: at steady RSS anon ${row.operatorRssAnonMiB.toFixed(0)} MiB, file ${row.operatorRssFileMiB.toFixed(0)} MiB; ` +
        `heap used/total ${row.operatorHeapUsedMiB.toFixed(0)}/${row.operatorHeapTotalMiB.toFixed(0)} MiB (` +
        Object.entries(spaces)
          .filter(([, v]) => v.total >= 1)
          .map(([k, v]) => `${k} ${v.used.toFixed(0)}/${v.total.toFixed(0)}`)
          .join(', ') +
        `), external ${row.operatorExternalMiB.toFixed(0)} MiB`,
    );
    const byOperator = readAudit(dir)
      .slice(auditStart)
      .filter((e) => e.userAgent?.startsWith(USER_AGENT));
    for (const e of byOperator) row.operatorRequestsPerVbmc[e.verb] = (row.operatorRequestsPerVbmc[e.verb] ?? 0) + 1;
    for (const k of Object.keys(row.operatorRequestsPerVbmc))
      row.operatorRequestsPerVbmc[k] = (row.operatorRequestsPerVbmc[k] ?? 0) / count;
    if (row.steadySeconds === null) {
      row.error = `only ${settled}/${count} steady after ${steadyLimitMs / 1000} s`;
      say(`N=${count}: ${row.error}`);
      return row;
    }
    if (process.env['BENCH_OPERATOR_PROFILE'] === 'snapshot') {
      const before = new Set(readdirSync(o.workDir));
      process.kill(pid, 'SIGUSR2');
      let size = -1;
      for (let i = 0; i < 600; i++) {
        await sleep(1_000);
        const file = readdirSync(o.workDir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
        if (!file) continue;
        const now = statSync(join(o.workDir, file)).size;
        // Written in one go by the operator's main thread: complete once its size stops changing.
        if (now > 0 && now === size) {
          say(`N=${count}: heap snapshot ${join(o.workDir, file)} (kept with BENCH_KEEP=1)`);
          break;
        }
        size = now;
      }
    }
    say(
      `N=${count}: steady in ${row.steadySeconds.toFixed(1)} s; operator RSS ${row.operatorRssMiB.toFixed(0)} MiB ` +
        `(peak ${row.operatorPeakRssMiB.toFixed(0)}), CPU ${row.operatorCpuSeconds.toFixed(1)} s [load ${loadAverage()[0]}]`,
    );

    // Idle window: nothing changes; count what the operator writes.
    const idleAudit = readAudit(dir).length;
    const idleCpu0 = cpuSeconds(pid) ?? 0;
    await sleep(idleMs);
    await sleep(500); // the blocking audit log is written before the response, but let in-flight requests finish
    row.idleCpuSeconds = (cpuSeconds(pid) ?? Number.NaN) - idleCpu0;
    const writes = readAudit(dir)
      .slice(idleAudit)
      .filter((e) => e.userAgent?.startsWith(USER_AGENT) && WRITE_VERBS.has(e.verb));
    const lease = writes.filter((e) => e.objectRef?.resource === 'leases');
    const other = writes.filter((e) => e.objectRef?.resource !== 'leases');
    row.idleWrites = other.length;
    row.idleLeaseWrites = lease.length;
    row.idleWriteSamples = other
      .slice(0, 5)
      .map(
        (e) =>
          `${e.verb} ${e.objectRef?.resource}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''} ${e.objectRef?.name}`,
      );
    say(
      `N=${count}: idle ${idleMs / 1000} s: ${row.idleWrites} writes (+${row.idleLeaseWrites} Lease renewals), ` +
        `operator CPU ${row.idleCpuSeconds.toFixed(2)} s, RSS ${(rssMiB(pid) ?? 0).toFixed(0)} MiB`,
    );
    row.operatorRssMiB = Math.max(row.operatorRssMiB, rssMiB(pid) ?? 0);
    row.operatorPeakRssMiB = peakRssMiB(pid) ?? row.operatorPeakRssMiB;
    return row;
  } catch (err) {
    row.error = (err as Error).message.slice(0, 500);
    say(`N=${count}: failed: ${row.error}`);
    return row;
  } finally {
    await operator?.stop();
    if (process.env['BENCH_OPERATOR_PROFILE'] === 'heap') {
      try {
        process.stdout.write(`operator heap profile, N=${count}:${summarizeHeapProfileDir(join(dir, 'prof'))}`);
      } catch (err) {
        say(`no operator heap profile: ${(err as Error).message}`);
      }
    }
    if (process.env['BENCH_OPERATOR_PROFILE'] === '1') {
      try {
        process.stdout.write(`operator CPU profile, N=${count}:${summarizeProfileDir(join(dir, 'prof'), 30, 25)}`);
      } catch (err) {
        say(`no operator profile: ${(err as Error).message}`);
      }
    }
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchOperator(o: BenchOptions): Promise<OperatorResults> {
  const fromEnv = process.env['BENCH_OPERATOR_COUNTS'];
  const counts = fromEnv ? fromEnv.split(',').map(Number) : o.quick ? [50] : [100, 500, 1000];
  const idleMs = o.quick ? 20_000 : 60_000;
  // The operator as it ships (Dockerfile.operator): the bundle from scripts/build-operator.ts, built for this run.
  // BENCH_OPERATOR_ENTRY=src runs the TypeScript sources instead.
  let args = ['operator/src/main.ts'];
  if (process.env['BENCH_OPERATOR_ENTRY'] !== 'src') {
    const out = join(o.workDir, 'operator-dist');
    await buildOperator(out);
    // BENCH_OPERATOR_NODE_FLAGS replaces the image's node flags (to compare settings; "" runs without).
    const flags = process.env['BENCH_OPERATOR_NODE_FLAGS']?.split(' ').filter(Boolean) ?? OPERATOR_NODE_FLAGS;
    args = [...flags, join(out, 'main.mjs')];
  }
  const rows: OperatorRow[] = [];
  for (const n of counts) rows.push(await runOne(o, n, idleMs, o.quick ? 120_000 : 420_000, args));
  return {
    rows,
    notes: [
      'A fresh etcd + kube-apiserver + kwok per N (test/support/cluster.ts), the operator as ' +
        (args[args.length - 1]?.endsWith('.mjs')
          ? `it ships: \`node ${args.slice(0, -1).join(' ')} dist/operator/main.mjs\`, the bundle of scripts/build-operator.ts, `
          : '`node operator/src/main.ts` (BENCH_OPERATOR_ENTRY=src), ') +
        `with LOG_LEVEL=info, WORKERS=${process.env['BENCH_OPERATOR_WORKERS'] ?? '16 (default)'}, RESYNC_SECONDS=30 ` +
        '(so every idle window holds resyncs), Lease 15 s / renew 5 s; ' +
        `VirtualBMCs created by ${CREATE_CONCURRENCY} parallel POSTs; every second the bench binds new pods to the kwok node, ${BIND_CONCURRENCY} at a time (no scheduler).`,
      'Steady: every VirtualBMC has status for its generation, PodScheduled=True and AgentReachable=False (no agent ' +
        'runs: AGENT_ENDPOINTS points every link at a closed loopback port, so connects are refused at once and retried ' +
        'with backoff up to 30 s; with real Service IPs the links would time out instead and send SYNs off-host).',
      'API requests: apiserver_request_total delta from the first create to steady, every client (operator, kwok, the ' +
        "bench's creates/binds/polls); per VirtualBMC: the operator's own requests from the audit log (its user agent; the bench's client sends qemu-bmc-bench).",
      `Idle: ${idleMs / 1000} s after steady; writes = the operator's create/update/patch/delete in the audit log, Lease ` +
        'renewals counted apart.',
    ],
  };
}
