// Test-only machine and an HTTPS client for the Redfish unit tests. The machine is in memory (these tests
// are about the HTTP layer); everything else — the FileBmcStore, TLS, express, auth, sessions — is real.
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { FileBmcStore, STATE_FILE_NAME } from '../../../bmc-agent/src/bmc/store.ts';
import { type BmcUser, Privilege, type PrivilegeLevel } from '../../../bmc-agent/src/bmc/types.ts';
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
    // Like the real machine: HTTP(S) media are read-only.
    if (opts?.writeProtected === false)
      throw new MachineError('invalid', 'HTTP(S) media are read-only: WriteProtected must be true');
    if (imageUrl.includes('unreachable')) {
      Object.assign(m, { image: null, inserted: false, status: 'Failed', error: 'connection refused' });
      this.emit('media', { ...m });
      throw new MachineError('media-failed', `cannot fetch ${imageUrl}: connection refused`);
    }
    Object.assign(m, {
      image: imageUrl,
      inserted: true,
      writeProtected: true,
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

function user(id: number, name: string, password: string, privilege: PrivilegeLevel, enabled = true): BmcUser {
  return {
    id,
    name,
    password,
    enabled,
    channels: { 1: { privilege, callin: true, linkAuth: true, ipmiMessaging: true } },
  };
}

/** The real FileBmcStore in the harness' state directory: admin (from the seed) plus three more users. */
export async function openStore(stateDir: string): Promise<FileBmcStore> {
  const store = await FileBmcStore.open({
    path: join(stateDir, STATE_FILE_NAME),
    seed: {
      adminUser: 'admin',
      adminPassword: 'password',
      address: '192.0.2.10',
      macAddress: '52:54:00:12:34:56',
      powerRestorePolicy: 'always-off',
    },
  });
  await store.update((d) => {
    d.users = d.users.filter((u) => u.id < 3);
    d.users.push(
      user(3, 'operator', 'oppass', Privilege.Operator),
      user(4, 'reader', 'readpass', Privilege.User),
      user(5, 'sleeper', 'sleeppass', Privilege.Administrator, false),
    );
  });
  return store;
}

export interface Harness {
  server: RedfishServer;
  machine: MemoryMachine;
  store: FileBmcStore;
  registry: Registry;
  stateDir: string;
  /** Moves the sessions' clock forward. */
  advance(ms: number): void;
  close(): Promise<void>;
}

export async function startHarness(overrides: Partial<RedfishConfig> = {}, stateDir?: string): Promise<Harness> {
  const dir = stateDir ?? mkdtempSync(join(tmpdir(), 'redfish-unit-'));
  const machine = new MemoryMachine();
  const store = await openStore(dir);
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
    eventDelivery: { attempts: 3, retryIntervalMs: 20, timeoutMs: 2_000 },
    serveMetrics: true,
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
