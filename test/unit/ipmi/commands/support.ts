// Unit-level harness for the command table: a real FileBmcStore in a temp dir and an in-test Machine.
import { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBmcStore } from '../../../../bmc-agent/src/bmc/store.ts';
import { Privilege, type PrivilegeLevel } from '../../../../bmc-agent/src/bmc/types.ts';
import { createCommandDispatcher } from '../../../../bmc-agent/src/ipmi/commands/index.ts';
import {
  Channel,
  type CommandContext,
  type IpmiResponse,
  type SessionDirectory,
  type SessionHandle,
} from '../../../../bmc-agent/src/ipmi/types.ts';
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
} from '../../../../bmc-agent/src/machine/types.ts';

export const UUID = '2d0e5f8c-1b7a-4c3e-9f21-6a5b4c3d2e1f';

/** A Machine that follows the documented semantics closely enough to check what the handlers ask of it. */
export class TestMachine implements Machine {
  readonly info: MachineInfo = { uuid: UUID, cpus: 4, memoryMiB: 6144, mode: 'managed', accelerator: 'tcg' };
  readonly resets: ResetType[] = [];
  state: PowerState = 'Off';
  override: BootOverride = { target: 'None', enabled: 'Disabled', mode: 'Legacy' };
  cause: RestartCause = 'unknown';
  /** When set, the next reset rejects with it. */
  refuse?: MachineError;
  private readonly events = new EventEmitter();

  powerState(): PowerState {
    return this.state;
  }
  async reset(type: ResetType): Promise<void> {
    if (this.refuse) {
      const error = this.refuse;
      this.refuse = undefined;
      throw error;
    }
    if (type === 'PowerCycle' && this.state === 'Off') throw new MachineError('conflict', 'power cycle while off');
    this.resets.push(type);
    const next: PowerState =
      type === 'ForceOff' || type === 'GracefulShutdown' ? 'Off' : type === 'Nmi' ? this.state : 'On';
    if (next !== this.state) {
      this.state = next;
      this.events.emit('power', next);
    }
    if (type === 'On' || type === 'PowerCycle') this.cause = 'chassis-control';
  }
  bootOverride(): BootOverride {
    return { ...this.override };
  }
  async setBootOverride(change: Partial<BootOverride>): Promise<BootOverride> {
    this.override = { ...this.override, ...change };
    this.events.emit('boot', this.bootOverride());
    return this.bootOverride();
  }
  media(): MediaState[] {
    return [];
  }
  insertMedia(id: MediaId): Promise<MediaState> {
    return Promise.reject(new MachineError('invalid', `no media ${id}`));
  }
  ejectMedia(id: MediaId): Promise<MediaState> {
    return Promise.reject(new MachineError('invalid', `no media ${id}`));
  }
  restartCause(): RestartCause {
    return this.cause;
  }
  /** Lets tests flip power as QEMU would (guest shutdown, boot). */
  setPower(state: PowerState): void {
    this.state = state;
    this.events.emit('power', state);
  }
  on<E extends keyof MachineEvents>(event: E, listener: (...args: MachineEvents[E]) => void): this {
    this.events.on(event, listener as (...args: unknown[]) => void);
    return this;
  }
  off<E extends keyof MachineEvents>(event: E, listener: (...args: MachineEvents[E]) => void): this {
    this.events.off(event, listener as (...args: unknown[]) => void);
    return this;
  }
}

export class TestSession implements SessionHandle {
  closed = false;
  privilege: PrivilegeLevel;
  readonly id: number;
  readonly userId: number;
  readonly userName: string;
  readonly channel = Channel.Lan;
  readonly maxPrivilege: PrivilegeLevel;
  readonly authType = 'rmcp+' as const;
  readonly remoteAddress = '127.0.0.1';
  readonly remotePort = 40123;
  constructor(id: number, userId: number, userName: string, privilege: PrivilegeLevel, maxPrivilege: PrivilegeLevel) {
    this.id = id;
    this.userId = userId;
    this.userName = userName;
    this.privilege = privilege;
    this.maxPrivilege = maxPrivilege;
  }
  close(): void {
    this.closed = true;
  }
}

export class TestSessions implements SessionDirectory {
  readonly maxSessions = 8;
  readonly list: TestSession[] = [];
  active(): SessionHandle[] {
    return this.list.filter((s) => !s.closed);
  }
  byId(id: number): SessionHandle | undefined {
    return this.active().find((s) => s.id === id);
  }
}

export interface Bench {
  store: FileBmcStore;
  machine: TestMachine;
  sessions: TestSessions;
  dispatcher: ReturnType<typeof createCommandDispatcher>;
  /** Sends a request as the in-band system interface (no session, Administrator). */
  inband(netFn: number, cmd: number, data?: number[]): Promise<IpmiResponse>;
  /** Sends a request over a LAN session at `privilege` (default Administrator). */
  lan(netFn: number, cmd: number, data?: number[], session?: TestSession): Promise<IpmiResponse>;
  session(privilege?: PrivilegeLevel, userId?: number): TestSession;
  context(session?: TestSession): CommandContext;
  cleanup(): Promise<void>;
}

export async function bench(options: Parameters<typeof createCommandDispatcher>[0] = {}): Promise<Bench> {
  const dir = await mkdtemp(join(tmpdir(), 'ipmi-commands-'));
  const store = await FileBmcStore.open({
    path: join(dir, 'bmc-state.json'),
    seed: {
      adminUser: 'admin',
      adminPassword: 'password',
      address: '10.20.30.40',
      macAddress: '52:54:00:12:34:56',
      powerRestorePolicy: 'always-off',
    },
  });
  const machine = new TestMachine();
  const sessions = new TestSessions();
  const dispatcher = createCommandDispatcher({ actionWaitMs: 1000, ...options });
  let nextId = 0x1000;
  const context = (session?: TestSession): CommandContext =>
    session
      ? { machine, store, session, sessions, privilege: session.privilege, cipherSuites: [3, 17] }
      : { machine, store, privilege: Privilege.Administrator, cipherSuites: [3, 17] };
  const b: Bench = {
    store,
    machine,
    sessions,
    dispatcher,
    context,
    inband: (netFn, cmd, data = []) =>
      dispatcher.dispatch(
        { netFn, cmd, lun: 0, data: Uint8Array.from(data), channel: Channel.SystemInterface },
        context(),
      ),
    lan: (netFn, cmd, data = [], session) =>
      dispatcher.dispatch(
        { netFn, cmd, lun: 0, data: Uint8Array.from(data), channel: Channel.Lan },
        context(session ?? b.session()),
      ),
    session: (privilege = Privilege.Administrator, userId = 2) => {
      const s = new TestSession(
        nextId++,
        userId,
        store.userById(userId)?.name ?? '',
        privilege,
        Privilege.Administrator,
      );
      sessions.list.push(s);
      return s;
    },
    cleanup: async () => {
      dispatcher.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return b;
}

/** The response data as a plain array, after checking the completion code. */
export function okData(res: IpmiResponse): number[] {
  if (res.cc !== 0) throw new Error(`completion code 0x${res.cc.toString(16)}`);
  return Array.from(res.data);
}

export const NETFN = { Chassis: 0x00, Sensor: 0x04, App: 0x06, Storage: 0x0a, Transport: 0x0c } as const;
