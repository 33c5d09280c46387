import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireCommand } from './require.ts';

// Throwaway QEMU processes for tests: TCG only, QMP on a unix socket in a fresh temp dir,
// serial port 0 on the process's stdio. Every instance is tracked so a test file's afterAll
// (and, as a last resort, process exit) can kill them all.

export interface QemuOptions {
  /** Extra argv, appended after the defaults (devices, -kernel, ...). */
  args?: string[];
  /** -machine type; accel=tcg is always added. Default 'pc'. */
  machine?: string;
  memoryMiB?: number;
  /** 'stdio': serial 0 is collected (serialOutput) and writable (writeSerial). 'none': the caller wires it in args. */
  serial?: 'stdio' | 'none';
  /** How long to wait for the QMP socket to accept connections. */
  startTimeoutMs?: number;
}

export interface QemuExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface QemuInstance {
  /** Private temp dir; removed on stop. */
  readonly dir: string;
  readonly qmpPath: string;
  readonly pid: number;
  readonly argv: readonly string[];
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<QemuExit>;
  /** Serial output so far, with CRLF turned into LF. */
  serialOutput(): string;
  stderrOutput(): string;
  writeSerial(text: string): void;
  /** Resolves with the serial output once it matches; rejects on timeout or when QEMU exits first. */
  waitForSerial(pattern: RegExp, timeoutMs: number): Promise<string>;
  /** Resolves on exit; rejects (and kills) after timeoutMs. */
  waitForExit(timeoutMs: number): Promise<QemuExit>;
  qmp(): Promise<QmpConnection>;
  /** SIGTERM, then SIGKILL after a grace period; removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

const running = new Set<QemuInstance>();
const pidsToKillOnExit = new Set<number>();
process.once('exit', () => {
  for (const pid of pidsToKillOnExit) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** Stops every QEMU started by this process; call it from afterAll. */
export async function stopAllQemu(): Promise<void> {
  await Promise.all([...running].map((instance) => instance.stop()));
}

export function qemuBinary(): string {
  return requireCommand('qemu-system-x86_64', 'bash test/env/apt.sh');
}

export async function startQemu(options: QemuOptions = {}): Promise<QemuInstance> {
  const extra = options.args ?? [];
  if (extra.some((arg) => arg === '-enable-kvm' || /accel=kvm/.test(arg))) {
    throw new Error('startQemu: KVM is not allowed in tests (guests hang here); QEMU runs under TCG');
  }
  const binary = qemuBinary();
  const dir = mkdtempSync(join(tmpdir(), 'qemu-bmc-test-'));
  const qmpPath = join(dir, 'qmp.sock');
  const argv = [
    '-machine',
    `${options.machine ?? 'pc'},accel=tcg`,
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-m',
    String(options.memoryMiB ?? 256),
    '-qmp',
    `unix:${qmpPath},server=on,wait=off`,
    ...(options.serial === 'none' ? [] : ['-serial', 'stdio']),
    ...extra,
  ];
  const child = spawn(binary, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
  const instance = trackInstance(child, dir, qmpPath, argv);
  try {
    await waitForQmpSocket(instance, options.startTimeoutMs ?? 15_000);
  } catch (error) {
    await instance.stop();
    throw error;
  }
  return instance;
}

function trackInstance(
  child: ChildProcessWithoutNullStreams,
  dir: string,
  qmpPath: string,
  argv: string[],
): QemuInstance {
  let serial = '';
  let stderr = '';
  let exitInfo: QemuExit | null = null;
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of listeners) listener();
  };
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    serial += chunk;
    notify();
  });
  child.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  child.stdin.on('error', () => {
    // QEMU exited while we were writing; the exit is reported through `exited`.
  });
  const exited = new Promise<QemuExit>((resolve) => {
    child.once('error', (error) => {
      stderr += `spawn failed: ${error.message}\n`;
      exitInfo = { code: null, signal: null };
      resolve(exitInfo);
      notify();
    });
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
      notify();
    });
  });
  const pid = child.pid ?? -1;
  if (pid > 0) pidsToKillOnExit.add(pid);
  const serialOutput = () => serial.replace(/\r\n/g, '\n');
  const describe = () =>
    `qemu ${argv.join(' ')}\n--- stderr ---\n${stderr.slice(-2000)}\n--- serial (tail) ---\n${serialOutput().slice(-2000)}`;

  let stopping: Promise<void> | null = null;
  const instance: QemuInstance = {
    dir,
    qmpPath,
    pid,
    argv,
    exited,
    serialOutput,
    stderrOutput: () => stderr,
    writeSerial(text) {
      if (exitInfo === null) child.stdin.write(text);
    },
    waitForSerial(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const text = serialOutput();
          if (pattern.test(text)) {
            finish();
            resolve(text);
          } else if (exitInfo !== null) {
            finish();
            reject(
              new Error(`QEMU exited (${JSON.stringify(exitInfo)}) before serial matched ${pattern}\n${describe()}`),
            );
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`serial did not match ${pattern} within ${timeoutMs} ms\n${describe()}`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async waitForExit(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`QEMU did not exit within ${timeoutMs} ms\n${describe()}`)),
          timeoutMs,
        );
      });
      try {
        return await Promise.race([exited, timeout]);
      } catch (error) {
        await instance.stop();
        throw error;
      } finally {
        clearTimeout(timer);
      }
    },
    qmp: () => connectQmp(qmpPath),
    stop() {
      stopping ??= (async () => {
        if (exitInfo === null) {
          child.kill('SIGTERM');
          const killTimer = setTimeout(() => child.kill('SIGKILL'), 3000);
          await exited;
          clearTimeout(killTimer);
        }
        pidsToKillOnExit.delete(pid);
        running.delete(instance);
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
  running.add(instance);
  return instance;
}

async function waitForQmpSocket(instance: QemuInstance, timeoutMs: number): Promise<void> {
  const attempts = Math.max(1, Math.ceil(timeoutMs / 100));
  let exited = false;
  void instance.exited.then(() => {
    exited = true;
  });
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (exited) break;
    if (await canConnect(instance.qmpPath)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const why = exited ? 'QEMU exited during startup' : `QMP socket not ready within ${timeoutMs} ms`;
  throw new Error(`${why}: qemu ${instance.argv.join(' ')}\n${instance.stderrOutput()}`);
}

function canConnect(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface QmpEvent {
  event: string;
  data?: unknown;
}

/**
 * Just enough QMP for tests of the bed itself (greeting, capabilities, execute, events).
 * The product's client lives in bmc-agent/src/qmp/.
 */
export interface QmpConnection {
  readonly greeting: unknown;
  readonly events: readonly QmpEvent[];
  execute(command: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<unknown>;
  close(): void;
}

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

export function connectQmp(path: string): Promise<QmpConnection> {
  return new Promise((resolveConnection, rejectConnection) => {
    const socket: Socket = createConnection(path);
    const pending = new Map<string, Pending>();
    const events: QmpEvent[] = [];
    let buffered = '';
    let nextId = 1;
    let greeting: unknown = null;

    const fail = (error: Error) => {
      rejectConnection(error);
      for (const waiter of pending.values()) waiter.reject(error);
      pending.clear();
    };
    const connection: QmpConnection = {
      get greeting() {
        return greeting;
      },
      events,
      execute(command, args, timeoutMs = 10_000) {
        const id = `t${nextId++}`;
        return new Promise((resolve, reject) => {
          const timer = setTimeout(() => {
            pending.delete(id);
            reject(new Error(`QMP ${command}: no reply within ${timeoutMs} ms`));
          }, timeoutMs);
          pending.set(id, {
            resolve: (value) => {
              clearTimeout(timer);
              resolve(value);
            },
            reject: (error) => {
              clearTimeout(timer);
              reject(error);
            },
          });
          socket.write(`${JSON.stringify({ execute: command, id, ...(args ? { arguments: args } : {}) })}\n`);
        });
      },
      close: () => socket.destroy(),
    };

    const onMessage = (message: Record<string, unknown>) => {
      if ('QMP' in message) {
        greeting = message.QMP;
        connection.execute('qmp_capabilities').then(() => resolveConnection(connection), fail);
      } else if (typeof message.event === 'string') {
        events.push({ event: message.event, data: message.data });
      } else if (typeof message.id === 'string') {
        const waiter = pending.get(message.id);
        pending.delete(message.id);
        if (!waiter) return;
        if ('error' in message) waiter.reject(new Error(`QMP error: ${JSON.stringify(message.error)}`));
        else waiter.resolve(message.return);
      }
    };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line === '') continue;
        try {
          onMessage(JSON.parse(line) as Record<string, unknown>);
        } catch {
          fail(new Error(`QMP: not JSON: ${line.slice(0, 200)}`));
        }
      }
    });
    socket.once('error', (error) => fail(error));
    socket.once('close', () => fail(new Error('QMP connection closed')));
  });
}
