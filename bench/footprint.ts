// Part 3: agent footprint, QEMU excluded (managed mode, VM off): time from spawn to the first 200 on the service
// root (cold = empty STATE_DIR, so the TLS pair and state file are created; warm = restart on that STATE_DIR), RSS
// idle (after a quiet period) and under Redfish load (64 keep-alive connections, session auth), peak RSS.
// The agent measured is the one that ships: the bundle scripts/build-agent.ts makes (dist/agent/main.mjs, as
// `npm run agent` and the image run it); the TypeScript sources are measured warm for reference, and a bare Node
// process gives the floor. sushy-tools is measured the same way for reference.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAgent } from '../scripts/build-agent.ts';
import { AGENT_PASS, AGENT_USER, redfishSession, startAgent } from './lib/agent.ts';
import { runLoad } from './lib/http-load.ts';
import { launch, loadAverage, NODE_BIN, peakRssMiB, rssMiB, sleep } from './lib/proc.ts';
import { startSushy } from './lib/sushy.ts';
import type { BenchOptions, FootprintResults, FootprintRow } from './lib/types.ts';

function say(line: string): void {
  process.stdout.write(`  footprint: ${line}\n`);
}

async function rssUnderLoad(
  pid: number,
  url: string,
  headers: Record<string, string>,
  durationMs: number,
): Promise<number> {
  let max = 0;
  const timer = setInterval(() => {
    max = Math.max(max, rssMiB(pid) ?? 0);
  }, 100);
  try {
    await runLoad({ url, headers, connections: 64, durationMs, warmupMs: 0 });
  } finally {
    clearInterval(timer);
  }
  return Math.max(max, rssMiB(pid) ?? 0);
}

/** VmRSS of a Node process that does nothing, after `idleMs`: what any Node program costs here. */
async function bareNodeRss(logDir: string, idleMs: number): Promise<number> {
  const p = launch(NODE_BIN, ['-e', 'setInterval(() => {}, 1e6)'], { logPath: join(logDir, 'bare-node.log') });
  try {
    await sleep(idleMs);
    return rssMiB(p.pid) ?? Number.NaN;
  } finally {
    await p.stop();
  }
}

interface WarmMeasure {
  startMs: number[];
  idle: number;
  load: number;
  peak: number;
}

/**
 * `starts` warm starts on the same state dir (start to first Redfish 200 each); the last one stays up for its RSS:
 * idle after `idleMs`, under Redfish load for `loadMs`, and the peak.
 */
async function warmStartsThenRss(
  workDir: string,
  tag: string,
  where: { stateDir: string; entry?: string },
  starts: number,
  idleMs: number,
  loadMs: number,
): Promise<WarmMeasure> {
  const startMs: number[] = [];
  for (let i = 0; ; i++) {
    const a = await startAgent(process.cwd(), workDir, `${tag}${i}`, { ...where, keepState: true });
    startMs.push(a.firstOkMs);
    if (i < starts - 1) {
      await a.stop();
      continue;
    }
    try {
      await sleep(idleMs);
      const idle = rssMiB(a.proc.pid) ?? Number.NaN;
      const token = await redfishSession(a.redfishUrl, AGENT_USER, AGENT_PASS);
      const headers = { 'X-Auth-Token': token };
      const load = await rssUnderLoad(a.proc.pid, `${a.redfishUrl}/redfish/v1/Systems/1`, headers, loadMs);
      const peak = peakRssMiB(a.proc.pid) ?? Number.NaN;
      return { startMs, idle, load, peak };
    } finally {
      await a.stop();
    }
  }
}

export async function benchFootprint(o: BenchOptions): Promise<FootprintResults> {
  const starts = o.quick ? 2 : 5;
  const idleMs = o.quick ? 3_000 : 10_000;
  const loadMs = o.quick ? 2_000 : 5_000;
  const rows: FootprintRow[] = [];
  // The shipped form, built from this checkout into dist/agent (where `npm run agent` puts it: noVNC resolves
  // from the checkout's node_modules).
  const dist = join(process.cwd(), 'dist/agent');
  await buildAgent(dist);
  const entry = join(dist, 'main.mjs');
  const floor = await bareNodeRss(o.workDir, idleMs);
  say(`bare node: RSS ${floor.toFixed(1)} MiB after ${idleMs / 1000} s`);

  const stateDir = mkdtempSync(join(tmpdir(), 'qemu-bmc-bench-footprint-'));
  try {
    const cold: number[] = [];
    for (let i = 0; i < starts; i++) {
      const a = await startAgent(process.cwd(), o.workDir, `cold${i}`, { entry });
      cold.push(a.firstOkMs);
      await a.stop();
    }
    const bundle = await warmStartsThenRss(o.workDir, 'warm', { stateDir, entry }, starts, idleMs, loadMs);
    const rss = { rssIdleMiB: bundle.idle, rssLoadMiB: bundle.load, rssPeakMiB: bundle.peak };
    rows.push({ server: 'qemu-bmc (cold start)', startMs: cold, ...rss });
    rows.push({ server: 'qemu-bmc (warm start)', startMs: bundle.startMs, ...rss });
    say(
      `qemu-bmc: start cold ${cold.map((v) => v.toFixed(0)).join('/')} ms, warm ${bundle.startMs.map((v) => v.toFixed(0)).join('/')} ms; ` +
        `RSS idle ${bundle.idle.toFixed(1)} MiB, load ${bundle.load.toFixed(1)} MiB, peak ${bundle.peak.toFixed(1)} MiB [load ${loadAverage()[0]}]`,
    );
    // The TypeScript sources (`node bmc-agent/src/main.ts`, what the tests run in-process), warm, for reference.
    const sources = await warmStartsThenRss(o.workDir, 'src', { stateDir }, starts, idleMs, loadMs);
    rows.push({
      server: 'qemu-bmc, TS sources (warm start)',
      startMs: sources.startMs,
      rssIdleMiB: sources.idle,
      rssLoadMiB: sources.load,
      rssPeakMiB: sources.peak,
    });
    say(
      `qemu-bmc TS sources: start warm ${sources.startMs.map((v) => v.toFixed(0)).join('/')} ms; ` +
        `RSS idle ${sources.idle.toFixed(1)} MiB, load ${sources.load.toFixed(1)} MiB, peak ${sources.peak.toFixed(1)} MiB`,
    );
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }

  const sushyStarts: number[] = [];
  for (let i = 0; i < starts; i++) {
    const s = await startSushy(o.workDir, false);
    sushyStarts.push(s.firstOkMs);
    if (i < starts - 1) {
      await s.stop();
      continue;
    }
    try {
      await sleep(idleMs);
      const idle = rssMiB(s.proc.pid) ?? Number.NaN;
      const load = await rssUnderLoad(s.proc.pid, s.systemUrl, {}, loadMs);
      const peak = peakRssMiB(s.proc.pid) ?? Number.NaN;
      rows.push({ server: 'sushy-tools', startMs: sushyStarts, rssIdleMiB: idle, rssLoadMiB: load, rssPeakMiB: peak });
      say(
        `sushy-tools: start ${sushyStarts.map((v) => v.toFixed(0)).join('/')} ms; RSS idle ${idle.toFixed(1)} MiB, ` +
          `load ${load.toFixed(1)} MiB, peak ${peak.toFixed(1)} MiB`,
      );
    } finally {
      await s.stop();
    }
  }
  return {
    rows,
    notes: [
      `Start: spawn of \`node dist/agent/main.mjs\` (the bundle of scripts/build-agent.ts, as \`npm run agent\` and the ` +
        `image run it) to the first 200 on GET /redfish/v1, polled every 5 ms; ${starts} starts each. Cold = fresh ` +
        'STATE_DIR (generates the self-signed TLS pair, creates bmc-state.json and vm-uuid); warm = the same ' +
        'STATE_DIR again, as after a pod restart. "TS sources" = `node bmc-agent/src/main.ts` (Node strips types at ' +
        'load), warm.',
      `Floor: a bare \`node -e 'setInterval(() => {}, 1e6)'\` on the same Node (${process.version}) has ` +
        `${floor.toFixed(1)} MiB RSS after ${idleMs / 1000} s.`,
      `RSS: VmRSS from /proc/<pid>/status after ${idleMs / 1000} s idle, the maximum sampled every 100 ms under ` +
        `${loadMs / 1000} s of 64-connection session-auth GETs of Systems/1, and VmHWM.`,
    ],
  };
}
