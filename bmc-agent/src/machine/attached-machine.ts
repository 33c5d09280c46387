// Attach mode (the seed's legacy mode): QEMU was started by someone else; the agent only has its QMP socket.
// Power is emulated inside the one QEMU process: Off = vCPUs not running (paused, or "shutdown" when QEMU runs with
// -no-shutdown), On = running. The agent cannot start a QEMU that has exited, so without -no-shutdown a guest
// power off ends in Off with On unavailable until QEMU is back (the client reconnects with backoff).

import { bootClassOf, bootIndexes, DEVICE_IDS, defaultBootOrder } from '../qemu/argv.ts';
import { QmpClient, type QmpEvent } from '../qmp/client.ts';
import { cont, injectNmi, queryStatus, stop, systemPowerdown, systemReset } from '../qmp/commands.ts';
import { BaseMachine, type BaseMachineDeps } from './base-machine.ts';
import { effectiveTarget } from './boot.ts';
import { setBootIndex } from './boot-index.ts';
import { type BootOverride, MachineError, type ResetType } from './types.ts';

export interface AttachedMachineDeps extends BaseMachineDeps {
  qmpSocket: string;
  gracefulShutdownTimeoutS?: number;
}

const STATUS_EVENTS = new Set(['STOP', 'RESUME', 'SHUTDOWN', 'RESET', 'POWERDOWN']);

function targetOf(socket: string): { path: string } | { host: string; port: number } {
  const m = /^tcp:([^:]+):(\d+)$/.exec(socket);
  return m ? { host: m[1]!, port: Number(m[2]) } : { path: socket };
}

export class AttachedMachine extends BaseMachine {
  readonly qmp: QmpClient;
  readonly #gracefulMs: number;
  #gracefulTimer: NodeJS.Timeout | null = null;
  #onceArmed = false;

  constructor(deps: AttachedMachineDeps) {
    super(deps);
    this.#gracefulMs = (deps.gracefulShutdownTimeoutS ?? 60) * 1000;
    this.qmp = new QmpClient({ target: targetOf(deps.qmpSocket), reconnect: { minDelayMs: 200, maxDelayMs: 5_000 } });
    this.qmp.on('connected', () => {
      this.log.info({ qmp: deps.qmpSocket }, 'attached to QEMU');
      void this.refresh();
    });
    this.qmp.on('disconnected', () => {
      this.log.warn('QMP connection lost; reporting Off until QEMU is back');
      this.virtualMedia.forgetNodes();
      this.setPower('Off');
    });
    this.qmp.on('event', (event) => this.#onEvent(event));
  }

  /** Starts connecting in the background; the BMC serves requests (reporting Off) until QEMU answers. */
  connect(): void {
    this.qmp.connect().catch((err: Error) => {
      this.log.warn({ err: err.message }, 'QEMU not reachable yet; retrying');
      this.qmp.startReconnecting();
    });
  }

  /** Stops talking to QEMU (which keeps running) and waits for queued state writes. */
  async close(): Promise<void> {
    if (this.#gracefulTimer) clearTimeout(this.#gracefulTimer);
    this.qmp.close();
    await this.settled();
  }

  /** Re-reads the run state: running → On, anything else → Off. */
  async refresh(): Promise<void> {
    try {
      const status = await queryStatus(this.qmp);
      this.setPower(status.running ? 'On' : 'Off');
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'query-status failed');
    }
  }

  protected liveQmp(): QmpClient | null {
    return this.qmp.connected ? this.qmp : null;
  }

  protected usbBootIndex(): number {
    return bootIndexes(defaultBootOrder('c'), bootClassOf(effectiveTarget(this.bootOverride())))['Usb'];
  }

  protected async applyBootOrderLive(override: BootOverride): Promise<void> {
    if (!this.qmp.connected) return;
    // Only devices with our ids (a QEMU started from our argv builder) can be re-ordered; others are left alone.
    const first = bootClassOf(effectiveTarget(override));
    const wanted = bootIndexes(defaultBootOrder('c'), first);
    const devices = [
      ['Hdd', DEVICE_IDS.disk],
      ['Cd', DEVICE_IDS.cd],
      ['Pxe', DEVICE_IDS.nic(0)],
    ] as const;
    for (const pass of [false, true])
      for (const [cls, id] of devices)
        if ((cls === first) === pass) await setBootIndex(this.qmp, id, wanted[cls]).catch(() => undefined);
    this.#onceArmed = override.enabled === 'Once' && first !== null;
  }

  #requireQmp(): QmpClient {
    if (!this.qmp.connected)
      throw new MachineError('unavailable', 'QEMU is not reachable over QMP (attach mode cannot start QEMU)');
    return this.qmp;
  }

  protected async performReset(type: ResetType): Promise<void> {
    const qmp = this.#requireQmp();
    const running = (await queryStatus(qmp)).running;
    switch (type) {
      case 'On':
        if (!running) await this.#powerOn(qmp);
        break;
      case 'ForceOff':
        if (running) await this.#powerOff(qmp);
        break;
      case 'GracefulShutdown':
        if (running) this.#graceful(qmp, () => this.#powerOff(qmp));
        break;
      case 'PushPowerButton':
        if (running) await systemPowerdown(qmp);
        else await this.#powerOn(qmp, 'power-button');
        break;
      case 'ForceRestart':
        if (!running) throw new MachineError('conflict', 'ForceRestart needs the system to be powered on');
        this.cause = 'chassis-control';
        await systemReset(qmp);
        break;
      case 'GracefulRestart':
        if (!running) throw new MachineError('conflict', 'GracefulRestart needs the system to be powered on');
        this.#graceful(qmp, () => this.#powerOn(qmp));
        break;
      case 'PowerCycle':
        if (running) await this.#powerOff(qmp);
        await this.#powerOn(qmp);
        break;
      case 'Nmi':
        if (!running) throw new MachineError('conflict', 'Nmi needs the system to be powered on');
        await injectNmi(qmp);
        break;
    }
    await this.refresh();
  }

  /** Pause and reset: the next On boots from the start, as after a real power off. */
  async #powerOff(qmp: QmpClient): Promise<void> {
    await stop(qmp);
    await systemReset(qmp);
    this.setPower('Off');
  }

  async #powerOn(qmp: QmpClient, cause: 'chassis-control' | 'power-button' = 'chassis-control'): Promise<void> {
    const status = await queryStatus(qmp);
    // After a guest power off under -no-shutdown, QEMU needs a reset before it can run again.
    if (status.status === 'shutdown' || status.status === 'guest-panicked') await systemReset(qmp);
    await cont(qmp);
    this.cause = cause;
    this.setPower('On');
  }

  #graceful(qmp: QmpClient, fallback: () => Promise<void>): void {
    void systemPowerdown(qmp).catch((err: Error) => this.log.warn({ err: err.message }, 'system_powerdown failed'));
    if (this.#gracefulTimer) clearTimeout(this.#gracefulTimer);
    this.#gracefulTimer = setTimeout(() => {
      this.#gracefulTimer = null;
      void this.refresh().then(() => {
        if (this.powerState() === 'On')
          this.serialize(fallback).catch((err: Error) => this.log.error({ err: err.message }, 'forced action failed'));
      });
    }, this.#gracefulMs);
    this.#gracefulTimer.unref();
  }

  #onEvent(event: QmpEvent): void {
    this.log.debug({ event: event.event, data: event.data }, 'qmp event');
    this.virtualMedia.observe(event);
    if (event.event === 'RESET' && this.#onceArmed) {
      this.#onceArmed = false;
      void this.applyBootOrderLive({ ...this.bootOverride(), enabled: 'Disabled' })
        .then(() => this.consumeOnce())
        .catch((err: Error) => this.log.warn({ err: err.message }, 'could not clear the one-time boot override'));
    }
    if (STATUS_EVENTS.has(event.event)) void this.refresh();
  }
}
