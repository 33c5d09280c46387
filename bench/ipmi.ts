// Part 2: IPMI over LAN (RMCP+, cipher suite 3 for every server):
//  - full sessions driven by `ipmitool -I lanplus ... mc info` (process start, Get Channel Auth Capabilities,
//    Open Session, RAKP 1-4, Get Device ID, Close Session), N times in a row;
//  - full sessions from our TS console (Open Session, RAKP 1-4, Get Device ID, Close Session), no process start;
//  - commands per second on one established session (Get Device ID, one in flight).
// Servers: our agent (VM off, managed mode), OpenIPMI ipmi_sim, pyghmi's Bmc (VirtualBMC's protocol core).

import { readdirSync, readFileSync } from 'node:fs';
import { requireCommand } from '../test/support/require.ts';
import { AGENT_PASS, AGENT_USER, startAgent } from './lib/agent.ts';
import { type Baseline, checkoutBaseline } from './lib/baseline.ts';
import { percentile } from './lib/http-load.ts';
import { IpmiLanClient } from './lib/ipmi-client.ts';
import { startIpmiSim, startPyghmiBmc } from './lib/ipmi-peers.ts';
import { execFileAsync, loadAverage } from './lib/proc.ts';
import type { BenchOptions, IpmiCommandRow, IpmiPipelineRow, IpmiResults, IpmiSessionRow } from './lib/types.ts';

const SUITE = 3;
/** Requests in flight for the precomputing generator: 1 (latency-bound) and 8 (within every server's sequence window). */
const WINDOWS = [1, 8];

/**
 * CPU time of a process in seconds, every thread, with nanosecond resolution: the sum of the first field of
 * /proc/<pid>/task/<tid>/schedstat (utime + stime in /proc/<pid>/stat counts 10 ms ticks, too coarse for a few
 * dozen sessions of ipmi_sim). Threads that end between two readings drop out; the servers here keep theirs.
 */
function cpuSeconds(pid: number): number | undefined {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // the thread ended while being read
      }
    }
    return ns / 1e9;
  } catch {
    return undefined;
  }
}

function say(line: string): void {
  process.stdout.write(`  ipmi: ${line}\n`);
}

interface Target {
  label: string;
  /** The server's process: its CPU time is read from /proc/<pid>/stat. */
  pid: number;
  port: number;
  user: string;
  password: string;
  stop(): Promise<void>;
}

async function ipmitoolSessions(t: Target, count: number): Promise<IpmiSessionRow> {
  const times: number[] = [];
  let failures = 0;
  let firstError: string | undefined;
  const cpu0 = cpuSeconds(t.pid) ?? Number.NaN;
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const s = performance.now();
    try {
      const args = ['-I', 'lanplus', '-H', '127.0.0.1', '-p', String(t.port), '-U', t.user, '-P', t.password];
      await execFileAsync('ipmitool', [...args, '-C', String(SUITE), '-R', '1', '-N', '2', 'mc', 'info'], {
        timeout: 10_000,
      });
      times.push(performance.now() - s);
    } catch (err) {
      failures++;
      firstError ??= String((err as { stderr?: string }).stderr || (err as Error).message).slice(0, 300);
    }
  }
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = (cpuSeconds(t.pid) ?? Number.NaN) - cpu0;
  const sorted = times.sort((a, b) => a - b);
  const row: IpmiSessionRow = {
    server: `${t.label} · ipmitool`,
    sessions: times.length,
    failures,
    perSecond: times.length / elapsed,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    serverCpuUsPerSession: (cpu * 1e6) / Math.max(1, times.length),
  };
  if (firstError) row.firstError = firstError;
  return row;
}

async function clientSessions(t: Target, count: number): Promise<IpmiSessionRow> {
  const times: number[] = [];
  let failures = 0;
  let firstError: string | undefined;
  const cpu0 = cpuSeconds(t.pid) ?? Number.NaN;
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const s = performance.now();
    // A new socket (source port) per session, as a new ipmitool process would use: pyghmi's Bmc keys its
    // sessions by client address and port and refuses a second Open Session from the same one.
    const client = await IpmiLanClient.connect('127.0.0.1', t.port, 2_000);
    try {
      await client.open(t.user, t.password, SUITE);
      const r = await client.command(0x06, 0x01);
      if (r.cc !== 0) throw new Error(`Get Device ID cc 0x${r.cc.toString(16)}`);
      await client.closeSession();
      times.push(performance.now() - s);
    } catch (err) {
      failures++;
      firstError ??= (err as Error).message;
    } finally {
      client.close();
    }
  }
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = (cpuSeconds(t.pid) ?? Number.NaN) - cpu0;
  const sorted = times.sort((a, b) => a - b);
  const row: IpmiSessionRow = {
    server: `${t.label} · TS console`,
    sessions: times.length,
    failures,
    perSecond: times.length / elapsed,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    serverCpuUsPerSession: (cpu * 1e6) / Math.max(1, times.length),
  };
  if (firstError) row.firstError = firstError;
  return row;
}

/** `sessions` sessions side by side (own socket each), each with one Get Device ID in flight. */
async function commandRate(t: Target, durationMs: number, sessions: number): Promise<IpmiCommandRow> {
  const times: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const clients: IpmiLanClient[] = [];
  let cpuUs = Number.NaN;
  try {
    for (let i = 0; i < sessions; i++) {
      const client = await IpmiLanClient.connect('127.0.0.1', t.port, 2_000);
      clients.push(client);
      // pyghmi's Bmc now and then refuses an Open Session with a nonsense status; a second attempt succeeds.
      for (let attempt = 1; ; attempt++) {
        try {
          await client.open(t.user, t.password, SUITE);
          break;
        } catch (err) {
          if (attempt >= 3) throw err;
        }
      }
      for (let w = 0; w < 20; w++) await client.command(0x06, 0x01); // warm-up
    }
    const pid = t.pid;
    const cpu0 = cpuSeconds(pid) ?? Number.NaN;
    const end = performance.now() + durationMs;
    await Promise.all(
      clients.map(async (client) => {
        while (performance.now() < end && errors < 50) {
          const s = performance.now();
          try {
            const r = await client.command(0x06, 0x01);
            if (r.cc !== 0) throw new Error(`cc 0x${r.cc.toString(16)}`);
            times.push(performance.now() - s);
          } catch (err) {
            errors++;
            firstError ??= (err as Error).message;
          }
        }
      }),
    );
    cpuUs = (((cpuSeconds(pid) ?? Number.NaN) - cpu0) * 1e6) / Math.max(1, times.length);
    for (const client of clients) await client.closeSession().catch(() => undefined);
  } catch (err) {
    errors++;
    firstError ??= (err as Error).message;
  } finally {
    for (const client of clients) client.close();
  }
  const sorted = times.sort((a, b) => a - b);
  const row: IpmiCommandRow = {
    server: t.label,
    sessions,
    commands: times.length,
    errors,
    perSecond: times.length / (durationMs / 1000),
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    serverCpuUsPerCommand: cpuUs,
  };
  if (firstError) row.firstError = firstError;
  return row;
}

/** Opens a session, retrying: pyghmi's Bmc now and then refuses an Open Session with a nonsense status. */
async function openWithRetry(t: Target): Promise<IpmiLanClient> {
  const client = await IpmiLanClient.connect('127.0.0.1', t.port, 2_000);
  for (let attempt = 1; ; attempt++) {
    try {
      await client.open(t.user, t.password, SUITE);
      return client;
    } catch (err) {
      if (attempt >= 3) {
        client.close();
        throw err;
      }
    }
  }
}

const CALIBRATE = 3000;
const MAX_PREPARED = 400_000;

/**
 * Commands/s as wrk measures HTTP: every request is built (encrypted, signed, consecutive session sequence numbers)
 * before the clock starts, then sent on one session with at most `window` unanswered; replies are only collected
 * while timed and checked afterwards. A calibration batch (also the warm-up) sizes the timed batch to about
 * 1.5x `durationMs` at the calibrated rate; the timed part stops when all are answered or after `durationMs`.
 */
async function pipelineRate(t: Target, durationMs: number, window: number): Promise<IpmiPipelineRow> {
  const row: IpmiPipelineRow = {
    server: t.label,
    window,
    prepared: 0,
    commands: 0,
    lost: 0,
    verified: 0,
    badReplies: 0,
    perSecond: 0,
    serverCpuUsPerCommand: Number.NaN,
    prepareMs: 0,
  };
  let client: IpmiLanClient | undefined;
  try {
    client = await openWithRetry(t);
    const warm = await client.pipeline(client.prepare(CALIBRATE, 0x06, 0x01), window, 10_000);
    const rate = warm.replies.length / (warm.elapsedMs / 1000);
    const count = Math.max(CALIBRATE, Math.min(MAX_PREPARED, Math.ceil((rate * durationMs * 1.5) / 1000)));
    const p0 = performance.now();
    const packets = client.prepare(count, 0x06, 0x01);
    row.prepareMs = performance.now() - p0;
    row.prepared = count;
    const cpu0 = cpuSeconds(t.pid) ?? Number.NaN;
    const r = await client.pipeline(packets, window, durationMs);
    const cpu = (cpuSeconds(t.pid) ?? Number.NaN) - cpu0;
    // Replies that arrive after the stop are not counted (the socket is drained by closeSession's exchange).
    row.commands = r.replies.length;
    row.lost = r.lost;
    row.perSecond = r.replies.length / (r.elapsedMs / 1000);
    row.serverCpuUsPerCommand = (cpu * 1e6) / Math.max(1, r.replies.length);
    // After the clock: check every reply (a stride sample beyond 50k).
    const stride = Math.max(1, Math.ceil(r.replies.length / 50_000));
    for (let i = 0; i < r.replies.length; i += stride) {
      row.verified++;
      try {
        const cc = client.verify(r.replies[i] as Buffer, 0x01);
        if (cc !== 0) throw new Error(`cc 0x${cc.toString(16)}`);
      } catch (err) {
        row.badReplies++;
        row.firstError ??= (err as Error).message;
      }
    }
    // Let late replies arrive before the close, so its exchange gets its own answer.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await client.closeSession().catch(() => undefined);
  } catch (err) {
    row.firstError ??= (err as Error).message;
  } finally {
    client?.close();
  }
  return row;
}

export async function benchIpmi(o: BenchOptions): Promise<IpmiResults> {
  const ipmitoolCount = o.quick ? 15 : 50;
  const clientCount = o.quick ? 60 : 300;
  const durationMs = o.quick ? 2_000 : 5_000;
  const sessions: IpmiSessionRow[] = [];
  const commands: IpmiCommandRow[] = [];
  const pipeline: IpmiPipelineRow[] = [];
  const notes: string[] = [];
  const rounds = o.quick ? 1 : 2;
  requireCommand('ipmitool', 'npm run bed -- apt');
  requireCommand('ipmi_sim', 'npm run bed -- apt');
  const targets: Target[] = [];
  let baseline: Baseline | undefined;
  try {
    const a = await startAgent(process.cwd(), o.workDir, 'ipmi');
    targets.push({
      label: 'qemu-bmc',
      pid: a.proc.pid,
      port: a.ipmiPort,
      user: AGENT_USER,
      password: AGENT_PASS,
      stop: a.stop,
    });
    // BENCH_IPMI_BASELINE=1: the regression baseline's agent too (BENCH_BASELINE or the default, as for Redfish),
    // labelled "qemu-bmc (<rev>)"; it comes after HEAD, so the targets still read HEAD's rows.
    if (process.env['BENCH_IPMI_BASELINE']) {
      baseline = await checkoutBaseline();
      const b = await startAgent(baseline.root, o.workDir, 'ipmi-baseline');
      targets.push({
        label: `qemu-bmc (${baseline.short})`,
        pid: b.proc.pid,
        port: b.ipmiPort,
        user: AGENT_USER,
        password: AGENT_PASS,
        stop: b.stop,
      });
      notes.push(
        `qemu-bmc (${baseline.short}): the agent at ${baseline.short} ("${baseline.subject}"), same generator.`,
      );
    }
    for (const peer of [await startIpmiSim(o.workDir), await startPyghmiBmc(o.workDir)])
      targets.push({ ...peer, pid: peer.proc.pid });
    // Every server runs for the whole part; each measurement alternates between them and the best round is kept
    // (other jobs on a shared machine only ever make a run slower).
    const bestSession = new Map<string, IpmiSessionRow>();
    const bestCommand = new Map<string, IpmiCommandRow>();
    const bestPipeline = new Map<string, IpmiPipelineRow>();
    const keep = <T extends { server: string; perSecond: number }>(m: Map<string, T>, key: string, row: T): void => {
      const prev = m.get(key);
      if (!prev || row.perSecond > prev.perSecond) m.set(key, row);
    };
    for (let round = 0; round < rounds; round++) {
      for (const t of targets) keep(bestSession, `${t.label}|ipmitool`, await ipmitoolSessions(t, ipmitoolCount));
      for (const t of targets) keep(bestSession, `${t.label}|console`, await clientSessions(t, clientCount));
      for (const n of [1, 4])
        for (const t of targets) keep(bestCommand, `${t.label}|${n}`, await commandRate(t, durationMs, n));
      for (const w of WINDOWS)
        for (const t of targets) keep(bestPipeline, `${t.label}|${w}`, await pipelineRate(t, durationMs, w));
      say(`round ${round + 1}/${rounds} done [load ${loadAverage()[0]}]`);
    }
    sessions.push(...bestSession.values());
    commands.push(...bestCommand.values());
    pipeline.push(...bestPipeline.values());
    for (const r of sessions)
      say(
        `${r.server}: ${r.perSecond.toFixed(1)} sessions/s p50 ${r.p50Ms.toFixed(1)} ms, server CPU ` +
          `${r.serverCpuUsPerSession?.toFixed(0)} µs/session${r.failures ? ` failures ${r.failures} (${r.firstError})` : ''}`,
      );
    for (const r of commands)
      say(
        `${r.server} x${r.sessions} sessions: ${r.perSecond.toFixed(0)} commands/s p50 ${r.p50Ms.toFixed(2)} ms ` +
          `p99 ${r.p99Ms.toFixed(2)} ms, server CPU ${r.serverCpuUsPerCommand?.toFixed(1)} µs/command` +
          `${r.errors ? ` errors ${r.errors} (${r.firstError})` : ''}`,
      );
    for (const r of pipeline)
      say(
        `${r.server} precomputed, window ${r.window}: ${r.perSecond.toFixed(0)} commands/s, server CPU ` +
          `${r.serverCpuUsPerCommand.toFixed(1)} µs/command (${r.commands} of ${r.prepared} prepared in ` +
          `${r.prepareMs.toFixed(0)} ms, lost ${r.lost}, bad ${r.badReplies} of ${r.verified} verified)` +
          `${r.firstError ? ` (${r.firstError})` : ''}`,
      );
  } finally {
    for (const t of targets) await t.stop();
    await baseline?.remove();
  }
  notes.push(
    `Cipher suite ${SUITE} (HMAC-SHA1, HMAC-SHA1-96, AES-CBC-128) everywhere: ipmi_sim (OpenIPMI 2.0.x lanserv) offers ` +
      "RAKP-HMAC-SHA1/MD5 and AES-CBC-128 but no SHA-256 suites (no 17), and pyghmi's Bmc answers RAKP 2 with SHA-1 only.",
    "VirtualBMC (`vbmc`) needs a libvirt daemon to create a BMC, and none runs here; its protocol stack is pyghmi's " +
      "`pyghmi.ipmi.bmc.Bmc` (VirtualBMC's `VirtualBMC` class subclasses it and only adds libvirt calls for chassis " +
      'commands), so the pyghmi peer is `fakebmc` from the venv, the same class with canned answers.',
    `ipmitool: ${ipmitoolCount} runs of \`ipmitool -I lanplus -C 3 mc info\` in a row, each a new process (about half ` +
      `of each run is ipmitool itself); TS console: ${clientCount} sessions from one process with the agent's own codec ` +
      `and crypto modules (bench/lib/ipmi-client.ts); commands/s: Get Device ID for ${durationMs / 1000} s on one ` +
      'session with one request in flight (latency-bound: the Node console does the same crypto as the server), and on ' +
      "4 sessions side by side from the same process (closer to the server's capacity).",
  );
  notes.push(
    'precomputed (the fair generator, since 2026-11-26 11:00): on one session, all requests are built (encrypted, ' +
      'signed, consecutive session sequence numbers) before the clock starts, sent with at most 1 or 8 unanswered ' +
      "(8 stays inside our and the peers' sequence windows: ours accepts 15 ahead), on a connected UDP socket; while " +
      'timed the generator only keeps each datagram, and checks them afterwards (integrity, session ID, decryption, ' +
      'command; every reply up to 50k, a stride sample beyond). A calibration batch of 3000 (also the warm-up) sizes ' +
      'the timed batch. Server CPU = CPU time of the server process (every thread; /proc/<pid>/task/*/schedstat, ns) ' +
      'over the timed part / replies (or / sessions for the session rows): it does not depend on the generator.',
  );
  return { cipherSuite: SUITE, sessions, commands, pipeline, notes };
}
