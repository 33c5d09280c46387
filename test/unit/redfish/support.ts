// Test-only stand-ins and an HTTPS client for the Redfish unit tests. The machine is in memory (these
// tests are about the HTTP layer); everything else — TLS, express, auth, sessions — is the real code.
import { createHash, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { BmcState, BmcStore, BmcUser } from '../../../bmc-agent/src/bmc/types.ts';
import {
  type BootOverride,
  type Machine,
  MachineError,
  type MachineEvents,
  type MachineInfo,
  type MediaId,
  type MediaState,
  type PowerState,
  type ResetType,
  type RestartCause,
} from '../../../bmc-agent/src/machine/types.ts';
import type { RedfishConfig } from '../../../bmc-agent/src/redfish/config.ts';
import { type RedfishServer, startRedfishServer } from '../../../bmc-agent/src/redfish/server.ts';

export class MemoryMachine extends EventEmitter implements Machine {
  readonly info: MachineInfo = {
    uuid: '8a6c3b1e-2f0d-4c55-9b7a-0e2d4c6f8a10',
    cpus: 2,
    memoryMiB: 1536,
    mode: 'managed',
    accelerator: 'tcg',
  };
  power: PowerState = 'Off';
  boot: BootOverride = { target: 'None', enabled: 'Disabled', mode: 'Legacy' };
  mediaStates: MediaState[] = [
    { id: 'CD1', image: null, inserted: false, writeProtected: true, status: 'Ejected', error: null },
    { id: 'USB1', image: null, inserted: false, writeProtected: false, status: 'Ejected', error: null },
  ];
  resets: ResetType[] = [];
  failNextReset: MachineError | undefined;

  powerState(): PowerState {
    return this.power;
  }
  async reset(type: ResetType): Promise<void> {
    if (this.failNextReset) {
      const e = this.failNextReset;
      this.failNextReset = undefined;
      throw e;
    }
    this.resets.push(type);
    const next: PowerState =
      type === 'ForceOff' || type === 'GracefulShutdown' ? 'Off' : type === 'Nmi' ? this.power : 'On';
    if (next !== this.power) {
      this.power = next;
      this.emit('power', next);
    }
  }
  bootOverride(): BootOverride {
    return { ...this.boot };
  }
  async setBootOverride(change: Partial<BootOverride>): Promise<BootOverride> {
    this.boot = { ...this.boot, ...change };
    this.emit('boot', this.bootOverride());
    return this.bootOverride();
  }
  media(): MediaState[] {
    return this.mediaStates.map((m) => ({ ...m }));
  }
  async insertMedia(id: MediaId, imageUrl: string, opts?: { writeProtected?: boolean }): Promise<MediaState> {
    const m = this.#media(id);
    if (imageUrl.includes('unreachable')) {
      Object.assign(m, { image: null, inserted: false, status: 'Failed', error: 'connection refused' });
      this.emit('media', { ...m });
      throw new MachineError('media-failed', `cannot fetch ${imageUrl}: connection refused`);
    }
    Object.assign(m, {
      image: imageUrl,
      inserted: true,
      writeProtected: opts?.writeProtected ?? id === 'CD1',
      status: 'Inserted',
      error: null,
    });
    this.emit('media', { ...m });
    return { ...m };
  }
  async ejectMedia(id: MediaId): Promise<MediaState> {
    const m = this.#media(id);
    Object.assign(m, { image: null, inserted: false, status: 'Ejected', error: null });
    this.emit('media', { ...m });
    return { ...m };
  }
  restartCause(): RestartCause {
    return 'unknown';
  }
  #media(id: MediaId): MediaState {
    const m = this.mediaStates.find((x) => x.id === id);
    if (!m) throw new MachineError('invalid', `no media ${id}`);
    return m;
  }
  override on<E extends keyof MachineEvents>(event: E, listener: (...args: MachineEvents[E]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }
  override off<E extends keyof MachineEvents>(event: E, listener: (...args: MachineEvents[E]) => void): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }
}

function user(id: number, name: string, password: string, privilege: number, enabled = true): BmcUser {
  return {
    id,
    name,
    password,
    enabled,
    channels: { 1: { privilege: privilege as 4, callin: true, linkAuth: true, ipmiMessaging: true } },
  };
}

export function initialState(): BmcState {
  return {
    version: 1,
    users: [
      { id: 1, name: '', password: '', enabled: false, channels: {} },
      user(2, 'admin', 'password', 4),
      user(3, 'operator', 'oppass', 3),
      user(4, 'reader', 'readpass', 2),
      user(5, 'sleeper', 'sleeppass', 4, false),
    ],
    channels: {},
    lan: {
      ipSource: 'static',
      ipAddress: '10.0.0.9',
      netmask: '255.255.255.0',
      gateway: '10.0.0.1',
      macAddress: '52:54:00:00:00:09',
      vlanId: 0,
      cipherSuitePrivileges: [],
      authTypeEnables: [0, 0, 0, 0, 0],
    },
    sol: {
      enabled: true,
      privilege: 2,
      forceEncryption: false,
      forceAuthentication: false,
      characterAccumulateMs: 50,
      characterSendThreshold: 1,
      retryCount: 3,
      retryIntervalMs: 500,
      baudRate: 10,
    },
    powerRestorePolicy: 'always-off',
    lastPowerState: 'Off',
    bootParams: {},
    boot: { target: 'None', enabled: 'Disabled', mode: 'Legacy' },
  };
}

/** In-memory BmcStore with the interface's semantics (copy, validate, publish; throw changes nothing). */
export class MemoryStore extends EventEmitter implements BmcStore {
  #state: BmcState = initialState();
  state(): Readonly<BmcState> {
    return this.#state;
  }
  async update(mutator: (draft: BmcState) => void): Promise<Readonly<BmcState>> {
    const draft = structuredClone(this.#state);
    mutator(draft);
    const names = draft.users.filter((u) => u.name !== '').map((u) => u.name);
    if (new Set(names).size !== names.length) throw new Error('duplicate user name');
    this.#state = draft;
    this.emit('change', draft);
    return draft;
  }
  userByName(name: string): BmcUser | undefined {
    return this.#state.users.find((u) => u.name === name && name !== '');
  }
  userById(id: number): BmcUser | undefined {
    return this.#state.users.find((u) => u.id === id);
  }
  checkPassword(name: string, password: string): BmcUser | undefined {
    const u = this.userByName(name);
    const digest = (s: string) => createHash('sha256').update(s).digest();
    const ok = timingSafeEqual(digest(u?.password ?? '\0'), digest(password));
    return u?.enabled && ok ? u : undefined;
  }
}

export interface Harness {
  server: RedfishServer;
  machine: MemoryMachine;
  store: MemoryStore;
  registry: Registry;
  stateDir: string;
  /** Moves the sessions' clock forward. */
  advance(ms: number): void;
  close(): Promise<void>;
}

export async function startHarness(overrides: Partial<RedfishConfig> = {}, stateDir?: string): Promise<Harness> {
  const dir = stateDir ?? mkdtempSync(join(tmpdir(), 'redfish-unit-'));
  const machine = new MemoryMachine();
  const store = new MemoryStore();
  const registry = new Registry();
  let offset = 0;
  const server = await startRedfishServer({
    config: {
      port: 0,
      host: '127.0.0.1',
      stateDir: dir,
      sessionTimeoutSec: 300,
      bmcAddress: '192.0.2.10',
      macAddress: '52:54:00:12:34:56',
      ipmiPort: 623,
      ...overrides,
    },
    log: pino({ level: 'silent' }),
    registry,
    machine,
    store,
    now: () => Date.now() + offset,
  });
  return {
    server,
    machine,
    store,
    registry,
    stateDir: dir,
    advance: (ms) => {
      offset += ms;
    },
    close: async () => {
      await server.close();
      if (!stateDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions walk arbitrary JSON
  json: any;
}

export interface RequestOptions {
  auth?: string | false; // 'user:pass'; default admin:password
  token?: string;
  body?: unknown; // objects are JSON-encoded; strings/Buffers sent as is
  headers?: Record<string, string>;
}

export function call(port: number, method: string, path: string, opts: RequestOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...opts.headers };
  const auth = opts.auth === undefined ? 'admin:password' : opts.auth;
  if (opts.token) headers['X-Auth-Token'] = opts.token;
  else if (auth) headers.Authorization = `Basic ${Buffer.from(auth).toString('base64')}`;
  let payload: Buffer | undefined;
  if (opts.body !== undefined) {
    payload =
      typeof opts.body === 'string'
        ? Buffer.from(opts.body)
        : Buffer.isBuffer(opts.body)
          ? opts.body
          : Buffer.from(JSON.stringify(opts.body));
    headers['Content-Type'] ??= 'application/json';
    headers['Content-Length'] = String(payload.length);
  }
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method, path, headers, rejectUnauthorized: false, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

/** The registry MessageId suffixes in a Redfish error body, e.g. ['MalformedJSON']. */
export function messageIds(reply: Reply): string[] {
  const infos = reply.json?.error?.['@Message.ExtendedInfo'] as Array<{ MessageId: string }> | undefined;
  return (infos ?? []).map((i) => i.MessageId.replace(/^Base\.\d+\.\d+\.\d+\./, ''));
}
