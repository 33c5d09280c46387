// One QEMU process: spawn (or adopt a running one), connect QMP, notice its exit, stop it.
// A supervisor above (machine/) decides when to start a new one; this module never restarts by itself.
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { QmpClient } from '../qmp/client.ts';
import { quit } from '../qmp/commands.ts';

export interface QemuExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Last lines QEMU wrote on stderr (why it failed to start, or crashed). */
  stderr: string;
}

export interface QemuProcessEvents {
  exit: [info: QemuExitInfo];
}

export interface SpawnOptions {
  binary: string;
  argv: string[];
  qmpSocket: string;
  /** Written with the PID so a restarted agent can find (adopt) the VM. */
  pidFile: string | null;
  log: Logger;
  startTimeoutMs?: number;
}

const STDERR_KEEP = 4000;

export class QemuProcess extends EventEmitter<QemuProcessEvents> {
  readonly pid: number;
  readonly qmp: QmpClient;
  readonly exited: Promise<QemuExitInfo>;
  #child: ChildProcess | null;
  #stderr = '';
  #exitInfo: QemuExitInfo | null = null;
  #pollTimer: NodeJS.Timeout | null = null;
  readonly #pidFile: string | null;

  private constructor(pid: number, child: ChildProcess | null, qmp: QmpClient, pidFile: string | null) {
    super();
    this.pid = pid;
    this.#child = child;
    this.qmp = qmp;
    this.#pidFile = pidFile;
    let resolveExit: (info: QemuExitInfo) => void = () => {};
    this.exited = new Promise((resolve) => {
      resolveExit = resolve;
    });
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (this.#exitInfo) return;
      this.#exitInfo = { code, signal, stderr: this.#stderr.trim() };
      if (this.#pollTimer) clearInterval(this.#pollTimer);
      this.qmp.close();
      if (this.#pidFile) void rm(this.#pidFile, { force: true });
      resolveExit(this.#exitInfo);
      this.emit('exit', this.#exitInfo);
    };
    if (child) {
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => {
        this.#stderr = (this.#stderr + chunk).slice(-STDERR_KEEP);
      });
      child.once('exit', (code, signal) => finish(code, signal));
      child.once('error', (err) => {
        this.#stderr += `\n${err.message}`;
        finish(null, null);
      });
    } else {
      // An adopted process is not our child: its QMP socket closing is the prompt signal, polling the backstop.
      const check = () => {
        if (!processAlive(pid)) finish(null, null);
      };
      qmp.on('disconnected', () => setTimeout(check, 100));
      this.#pollTimer = setInterval(check, 1000);
      this.#pollTimer.unref();
    }
  }

  get running(): boolean {
    return this.#exitInfo === null;
  }

  stderrTail(): string {
    return this.#stderr.trim();
  }

  /** Starts QEMU and resolves once QMP is connected; kills it and rejects when QMP does not come up in time. */
  static async spawn(options: SpawnOptions): Promise<QemuProcess> {
    await rm(options.qmpSocket, { force: true });
    // Own process group: a Ctrl-C meant for the agent must not reach QEMU before the agent shuts it down cleanly.
    const child = spawn(options.binary, options.argv, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    const pid = child.pid;
    if (pid === undefined) {
      const err = await new Promise<Error>((resolve) => child.once('error', resolve));
      throw new Error(`cannot start ${options.binary}: ${err.message}`);
    }
    const qmp = new QmpClient({ target: { path: options.qmpSocket } });
    const proc = new QemuProcess(pid, child, qmp, options.pidFile);
    options.log.debug({ pid, argv: options.argv }, 'qemu started');
    if (options.pidFile) await writeFile(options.pidFile, `${pid}\n`);
    const deadline = Date.now() + (options.startTimeoutMs ?? 15_000);
    const attempts = Math.ceil((options.startTimeoutMs ?? 15_000) / 100);
    try {
      await Promise.race([
        (async () => {
          for (let i = 0; i < attempts && proc.running && Date.now() < deadline; i++) {
            try {
              await qmp.connect();
              return;
            } catch {
              await new Promise((r) => setTimeout(r, 100));
            }
          }
          throw new Error('QMP did not come up');
        })(),
        proc.exited.then((info) => {
          throw new Error(`QEMU exited at start (code ${info.code}, signal ${info.signal}): ${lastLine(info.stderr)}`);
        }),
      ]);
    } catch (err) {
      proc.kill();
      throw new Error(`QEMU start failed: ${(err as Error).message} ${lastLine(proc.stderrTail())}`.trim());
    }
    return proc;
  }

  /** Takes over a QEMU a previous agent started (pid file + QMP socket); null when there is none alive. */
  static async adopt(options: { pidFile: string; qmpSocket: string; log: Logger }): Promise<QemuProcess | null> {
    let pid: number;
    try {
      pid = Number((await readFile(options.pidFile, 'utf8')).trim());
    } catch {
      return null;
    }
    if (!Number.isInteger(pid) || pid <= 1 || !processAlive(pid)) {
      await rm(options.pidFile, { force: true });
      return null;
    }
    // Only adopt what is really our QEMU: its command line must name our QMP socket.
    let cmdline = '';
    try {
      cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replace(/\0/g, ' ');
    } catch {
      return null;
    }
    if (!cmdline.includes('qemu-system') || !cmdline.includes(options.qmpSocket)) {
      await rm(options.pidFile, { force: true });
      return null;
    }
    const qmp = new QmpClient({ target: { path: options.qmpSocket } });
    try {
      await qmp.connectWithRetry(5);
    } catch (err) {
      options.log.warn(
        { pid, err: (err as Error).message },
        'found a QEMU from a previous run but its QMP is unusable',
      );
      qmp.close();
      return null;
    }
    options.log.info({ pid }, 'adopted the running QEMU of a previous agent run');
    return new QemuProcess(pid, null, qmp, options.pidFile);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.running) return;
    try {
      if (this.#child) this.#child.kill(signal);
      else process.kill(this.pid, signal);
    } catch {
      // already gone; the exit handler reports it
    }
  }

  /** Asks QEMU to quit over QMP, then SIGKILLs it if it has not exited within timeoutMs. */
  async stop(timeoutMs = 5_000): Promise<QemuExitInfo> {
    if (this.running) {
      quit(this.qmp).catch(() => this.kill('SIGTERM'));
      const timer = setTimeout(() => this.kill('SIGKILL'), timeoutMs);
      try {
        await this.exited;
      } finally {
        clearTimeout(timer);
      }
    }
    return this.exited;
  }
}

/** True when a process with this PID exists and is not a zombie (a zombie still answers kill(0)). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers kill(0) but is dead for our purposes. /proc/<pid>/stat: "pid (comm) S ...".
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z';
  } catch {
    return false;
  }
}

function lastLine(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ');
}
