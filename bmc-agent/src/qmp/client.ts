// QMP client: newline-delimited JSON over a unix or TCP socket. Handles the greeting and capabilities negotiation,
// correlates replies by id with per-command timeouts, re-emits asynchronous events, and can reconnect with a bounded
// backoff (attach mode, where QEMU may restart independently of us).
import { EventEmitter } from 'node:events';
import { createConnection, type Socket } from 'node:net';

export interface QmpEvent {
  event: string;
  data: Record<string, unknown>;
  timestamp: { seconds: number; microseconds: number };
}

/** QEMU answered a command with {"error": {...}}. */
export class QmpError extends Error {
  readonly errorClass: string;
  readonly command: string;
  constructor(command: string, errorClass: string, desc: string) {
    super(`QMP ${command}: ${errorClass}: ${desc}`);
    this.name = 'QmpError';
    this.errorClass = errorClass;
    this.command = command;
  }
}

/** The connection is not usable (not connected, closed, timed out). */
export class QmpConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QmpConnectionError';
  }
}

export type QmpTarget = { path: string } | { host: string; port: number };

export interface QmpClientOptions {
  target: QmpTarget;
  /** Default per-command timeout. */
  commandTimeoutMs?: number;
  /** Greeting + qmp_capabilities must complete within this. */
  connectTimeoutMs?: number;
  /** After an established connection drops, reconnect with exponential backoff between these bounds. */
  reconnect?: { minDelayMs: number; maxDelayMs: number } | false;
  /** Lines longer than this close the connection (protects memory against a broken peer). */
  maxLineBytes?: number;
}

export interface QmpClientEvents {
  event: [event: QmpEvent];
  connected: [];
  disconnected: [error: Error | null];
}

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

type Json = Record<string, unknown>;

export function describeTarget(target: QmpTarget): string {
  return 'path' in target ? target.path : `tcp:${target.host}:${target.port}`;
}

export class QmpClient extends EventEmitter<QmpClientEvents> {
  readonly target: QmpTarget;
  readonly #commandTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #reconnect: QmpClientOptions['reconnect'];
  readonly #maxLineBytes: number;
  #socket: Socket | null = null;
  #ready = false;
  #closed = false;
  #nextId = 1;
  #pending = new Map<string, Pending>();
  #reconnectTimer: NodeJS.Timeout | null = null;
  #reconnectDelay: number;
  /** QEMU version from the greeting, e.g. {major: 7, minor: 2, micro: 22}. */
  version: { major: number; minor: number; micro: number } | null = null;

  constructor(options: QmpClientOptions) {
    super();
    this.target = options.target;
    this.#commandTimeoutMs = options.commandTimeoutMs ?? 10_000;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 5_000;
    this.#reconnect = options.reconnect ?? false;
    this.#maxLineBytes = options.maxLineBytes ?? 16 * 1024 * 1024;
    this.#reconnectDelay = this.#reconnect ? this.#reconnect.minDelayMs : 0;
  }

  get connected(): boolean {
    return this.#ready;
  }

  /** Connects once: resolves after the greeting and qmp_capabilities, rejects on any failure. */
  connect(): Promise<void> {
    if (this.#closed) return Promise.reject(new QmpConnectionError('QMP client is closed'));
    if (this.#ready) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const socket =
        'path' in this.target
          ? createConnection({ path: this.target.path })
          : createConnection({ host: this.target.host, port: this.target.port });
      this.#socket = socket;
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        reject(error);
      };
      const timer = setTimeout(
        () =>
          fail(
            new QmpConnectionError(
              `QMP ${describeTarget(this.target)}: no greeting within ${this.#connectTimeoutMs} ms`,
            ),
          ),
        this.#connectTimeoutMs,
      );
      let buffer = '';
      let greeted = false;
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        buffer += chunk;
        if (buffer.length > this.#maxLineBytes && !buffer.includes('\n')) {
          socket.destroy(new QmpConnectionError('QMP line too long'));
          return;
        }
        for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (line === '') continue;
          let msg: Json;
          try {
            msg = JSON.parse(line) as Json;
          } catch {
            socket.destroy(new QmpConnectionError(`QMP sent invalid JSON: ${line.slice(0, 200)}`));
            return;
          }
          if (!greeted) {
            if (!('QMP' in msg)) {
              fail(
                new QmpConnectionError(
                  `QMP ${describeTarget(this.target)}: expected greeting, got ${line.slice(0, 200)}`,
                ),
              );
              return;
            }
            greeted = true;
            this.version = readVersion(msg);
            // Negotiate directly (not through execute, which waits for readiness).
            this.#send('qmp_capabilities', undefined, this.#connectTimeoutMs).then(
              () => {
                if (settled) return;
                settled = true;
                clearTimeout(timer);
                this.#ready = true;
                this.#reconnectDelay = this.#reconnect ? this.#reconnect.minDelayMs : 0;
                this.emit('connected');
                resolve();
              },
              (error: Error) => fail(error),
            );
            continue;
          }
          this.#dispatch(msg);
        }
      });
      socket.on('error', (error) =>
        fail(new QmpConnectionError(`QMP ${describeTarget(this.target)}: ${error.message}`)),
      );
      socket.on('close', () => {
        const wasReady = this.#ready;
        this.#ready = false;
        this.#socket = null;
        this.#rejectAll(new QmpConnectionError('QMP connection closed'));
        fail(new QmpConnectionError(`QMP ${describeTarget(this.target)}: connection closed during handshake`));
        if (wasReady) {
          this.emit('disconnected', null);
          this.#scheduleReconnect();
        }
      });
    });
  }

  /** Keeps trying to connect with bounded backoff until it succeeds, `attempts` run out, or close() is called. */
  async connectWithRetry(attempts: number, minDelayMs = 50, maxDelayMs = 2_000): Promise<void> {
    let delay = minDelayMs;
    let last: Error = new QmpConnectionError('no attempt made');
    for (let i = 0; i < attempts && !this.#closed; i++) {
      try {
        await this.connect();
        return;
      } catch (error) {
        last = error as Error;
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, maxDelayMs);
    }
    throw last;
  }

  /** Runs a QMP command; rejects with QmpError for a QEMU error, QmpConnectionError when not connected or timed out. */
  execute<T = unknown>(command: string, args?: Json, timeoutMs = this.#commandTimeoutMs): Promise<T> {
    if (!this.#ready) return Promise.reject(new QmpConnectionError(`QMP ${command}: not connected`));
    return this.#send(command, args, timeoutMs) as Promise<T>;
  }

  /** Closes the connection and stops reconnecting; pending commands reject. */
  close(): void {
    this.#closed = true;
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = null;
    this.#socket?.destroy();
    this.#socket = null;
    this.#ready = false;
    this.#rejectAll(new QmpConnectionError('QMP client closed'));
  }

  #send(command: string, args: Json | undefined, timeoutMs: number): Promise<unknown> {
    const socket = this.#socket;
    if (!socket) return Promise.reject(new QmpConnectionError(`QMP ${command}: not connected`));
    const id = `bmc-${this.#nextId++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new QmpConnectionError(`QMP ${command}: no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { command, resolve, reject, timer });
      socket.write(
        JSON.stringify(args === undefined ? { execute: command, id } : { execute: command, arguments: args, id }) +
          '\n',
      );
    });
  }

  #dispatch(msg: Json): void {
    if (typeof msg['event'] === 'string') {
      this.emit('event', {
        event: msg['event'],
        data: (msg['data'] as Json | undefined) ?? {},
        timestamp: (msg['timestamp'] as QmpEvent['timestamp'] | undefined) ?? { seconds: 0, microseconds: 0 },
      });
      return;
    }
    const id = msg['id'];
    const pending = typeof id === 'string' ? this.#pending.get(id) : undefined;
    if (!pending || typeof id !== 'string') return; // reply to a timed-out command, or not ours
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    if ('error' in msg) {
      const err = (msg['error'] ?? {}) as Json;
      pending.reject(new QmpError(pending.command, String(err['class'] ?? 'GenericError'), String(err['desc'] ?? '')));
    } else {
      pending.resolve(msg['return']);
    }
  }

  #rejectAll(error: Error): void {
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      p.reject(error);
      this.#pending.delete(id);
    }
  }

  #scheduleReconnect(): void {
    if (!this.#reconnect || this.#closed || this.#reconnectTimer) return;
    const delay = this.#reconnectDelay;
    this.#reconnectDelay = Math.min(delay * 2, this.#reconnect.maxDelayMs);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      this.connect().catch(() => this.#scheduleReconnect());
    }, delay);
    this.#reconnectTimer.unref();
  }

  /** Starts the reconnect loop now (attach mode start-up, when QEMU is not there yet). */
  startReconnecting(): void {
    this.#scheduleReconnect();
  }
}

function readVersion(greeting: Json): QmpClient['version'] {
  const qemu = ((greeting['QMP'] as Json | undefined)?.['version'] as Json | undefined)?.['qemu'] as Json | undefined;
  if (!qemu) return null;
  return { major: Number(qemu['major']), minor: Number(qemu['minor']), micro: Number(qemu['micro']) };
}
