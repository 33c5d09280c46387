// Process helpers for the benchmarks: start a child with its output in a log file, wait for it, stop it by pid
// (never by name), and read its memory and CPU time from /proc.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const execFileAsync = promisify(execFile);
export const NODE_BIN = join(process.cwd(), 'node_modules/.bin/node');
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface Child {
  child: ChildProcess;
  pid: number;
  logPath: string;
  startedAt: bigint;
  log(): string;
  exited(): boolean;
  stop(): Promise<void>;
}

/** Spawns `cmd args` with stdout+stderr appended to logPath. */
export function launch(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; logPath: string },
): Child {
  const fd = openSync(opts.logPath, 'a');
  const startedAt = process.hrtime.bigint();
  const child = spawn(cmd, args, {
    env: opts.env ?? process.env,
    cwd: opts.cwd ?? process.cwd(),
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  child.on('error', () => {});
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  all.add(child);
  return {
    child,
    pid: child.pid ?? -1,
    logPath: opts.logPath,
    startedAt,
    log: () => {
      try {
        return readFileSync(opts.logPath, 'utf8');
      } catch {
        return '';
      }
    },
    exited: () => !alive(),
    stop: async () => {
      if (alive()) child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (alive()) child.kill('SIGKILL');
      }, 5_000);
      await exited;
      clearTimeout(timer);
      all.delete(child);
    },
  };
}

const all = new Set<ChildProcess>();
// A bench that dies half-way must not leave peers behind.
process.once('exit', () => {
  for (const c of all) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** VmRSS of a process in MiB (undefined when it is gone). */
export function rssMiB(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** VmHWM (peak RSS) in MiB. */
export function peakRssMiB(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** utime + stime of a process in seconds. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command: state is field 3, utime 14, stime 15 (1-based) → indices 11, 12 here.
    return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

export function loadAverage(): [number, number, number] {
  const [a, b, c] = readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number);
  return [a ?? 0, b ?? 0, c ?? 0];
}

/** Retries until `check` returns a value, at most `ms`; throws naming `what`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  ms: number,
  every = 50,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await sleep(every);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
