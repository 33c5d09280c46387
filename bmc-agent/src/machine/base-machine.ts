// What managed and attach mode share: the boot override (kept in the BMC store), virtual media, power state
// bookkeeping, events, and one-at-a-time execution of actions.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { BmcStore } from '../bmc/types.ts';
import type { QmpClient } from '../qmp/client.ts';
import { afterBoot, mergeOverride, overrideFromState } from './boot.ts';
import type { VirtualMedia } from './media.ts';
import type {
  BootOverride,
  Machine,
  MachineEvents,
  MachineInfo,
  MediaId,
  MediaState,
  PowerState,
  ResetType,
  RestartCause,
} from './types.ts';
import { MachineError, RESET_TYPES } from './types.ts';

export type PowerActionObserver = (type: ResetType, result: 'ok' | 'error') => void;

export interface BaseMachineDeps {
  info: MachineInfo;
  store: BmcStore;
  media: VirtualMedia;
  log: Logger;
  /** Told about every power action and its outcome (metrics). */
  onPowerAction?: PowerActionObserver;
}

export abstract class BaseMachine extends EventEmitter<MachineEvents> implements Machine {
  readonly info: MachineInfo;
  protected readonly store: BmcStore;
  protected readonly virtualMedia: VirtualMedia;
  protected readonly log: Logger;
  protected cause: RestartCause = 'unknown';
  /** While the agent itself shuts down, Off is not recorded, so the 'previous' restore policy sees the VM as it was. */
  protected recordPowerState = true;
  #power: PowerState = 'Off';
  #recorded: 'On' | 'Off' | null = null;
  #persisting: Promise<void> = Promise.resolve();
  #queue: Promise<unknown> = Promise.resolve();
  readonly #onPowerAction: PowerActionObserver | undefined;

  constructor(deps: BaseMachineDeps) {
    super();
    this.info = deps.info;
    this.store = deps.store;
    this.virtualMedia = deps.media;
    this.log = deps.log;
    this.#onPowerAction = deps.onPowerAction;
  }

  powerState(): PowerState {
    return this.#power;
  }

  restartCause(): RestartCause {
    return this.cause;
  }

  protected setPower(state: PowerState): void {
    if (state === this.#power) return;
    this.log.info({ from: this.#power, to: state }, 'power state');
    this.#power = state;
    this.emit('power', state);
    // Compared with the last value sent to the store (not the committed one): updates are queued, and a quick
    // Off → On → Off must still end as Off on disk.
    this.#recorded ??= this.store.state().lastPowerState;
    if ((state === 'On' || state === 'Off') && this.recordPowerState && this.#recorded !== state) {
      this.#recorded = state;
      const write = this.store
        .update((d) => {
          d.lastPowerState = state;
        })
        .then(
          () => undefined,
          (err: Error) => this.log.error({ err: err.message }, 'cannot record the power state'),
        );
      this.#persisting = this.#persisting.then(() => write);
    }
  }

  /** Resolves once every power state record queued so far is on disk (shutdown, tests). */
  settled(): Promise<void> {
    return this.#persisting;
  }

  /** Runs actions one at a time, in arrival order; a failed action does not block the next. */
  protected serialize<T>(action: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(action, action);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async reset(type: ResetType): Promise<void> {
    if (!RESET_TYPES.includes(type))
      throw new MachineError('invalid', `reset type must be one of ${RESET_TYPES.join(', ')}`);
    this.log.info({ type, power: this.#power }, 'power action');
    try {
      await this.serialize(() => this.performReset(type));
      this.#onPowerAction?.(type, 'ok');
    } catch (err) {
      this.#onPowerAction?.(type, 'error');
      this.log.warn({ type, err: (err as Error).message }, 'power action failed');
      // QMP failures (QEMU hung, gone mid-action) reach front ends as "unavailable", like any other refusal.
      throw err instanceof MachineError
        ? err
        : new MachineError('unavailable', `${type} failed: ${(err as Error).message}`);
    }
  }

  protected abstract performReset(type: ResetType): Promise<void>;
  /** QMP of the running QEMU, or null when there is none (power off, or attach mode without a connection). */
  protected abstract liveQmp(): QmpClient | null;
  /** Makes a running VM's next reset use the new override (when the mode can). */
  protected abstract applyBootOrderLive(override: BootOverride): Promise<void>;
  /** bootindex the removable USB disk gets when plugged now. */
  protected abstract usbBootIndex(): number;

  bootOverride(): BootOverride {
    return overrideFromState(this.store.state().boot);
  }

  async setBootOverride(change: Partial<BootOverride>): Promise<BootOverride> {
    return this.serialize(async () => {
      const next = mergeOverride(this.bootOverride(), change);
      await this.store.update((d) => {
        d.boot = { ...next };
      });
      this.log.info({ boot: next }, 'boot override set');
      this.emit('boot', next);
      await this.applyBootOrderLive(next).catch((err: Error) =>
        this.log.warn(
          { err: err.message },
          'boot order could not be applied to the running VM; it applies at the next power on',
        ),
      );
      return next;
    });
  }

  /** Store change + event for a boot that consumed a Once override. */
  protected async consumeOnce(): Promise<void> {
    const current = this.bootOverride();
    if (current.enabled !== 'Once') return;
    const next = afterBoot(current);
    await this.store.update((d) => {
      d.boot = { ...next };
    });
    this.log.info({ boot: next }, 'one-time boot override used');
    this.emit('boot', next);
  }

  media(): MediaState[] {
    return this.virtualMedia.list();
  }

  async insertMedia(id: MediaId, imageUrl: string, opts: { writeProtected?: boolean } = {}): Promise<MediaState> {
    return this.serialize(async () => {
      try {
        const state = await this.virtualMedia.insert(
          id,
          imageUrl,
          opts.writeProtected ?? true,
          this.liveQmp(),
          this.usbBootIndex(),
        );
        this.emit('media', state);
        return state;
      } catch (err) {
        if (err instanceof MachineError && err.code === 'media-failed') this.emit('media', this.virtualMedia.get(id));
        throw err;
      }
    });
  }

  async ejectMedia(id: MediaId): Promise<MediaState> {
    return this.serialize(async () => {
      const state = await this.virtualMedia.eject(id, this.liveQmp());
      this.emit('media', state);
      return state;
    });
  }
}
