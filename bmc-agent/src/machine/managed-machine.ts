// Managed mode: the agent owns QEMU. Power off means no QEMU process; power on starts one with this boot's
// override applied; a QEMU that exits (guest power off, crash, kill -9) is reported Off and can be powered on again.
import type { AgentConfig } from '../config.ts';
import { type BootClass, bootClassOf, bootIndexes, buildQemuArgv, DEVICE_IDS, defaultBootOrder } from '../qemu/argv.ts';
import { type QemuExitInfo, QemuProcess } from '../qemu/process.ts';
import type { QmpClient, QmpEvent } from '../qmp/client.ts';
import { cont, injectNmi, systemPowerdown, systemReset } from '../qmp/commands.ts';
import { BaseMachine, type BaseMachineDeps } from './base-machine.ts';
import { effectiveTarget } from './boot.ts';
import { setBootIndex } from './boot-index.ts';
import { buildLaunchPlan } from './launch.ts';
import { type BootOverride, MachineError, type ResetType, type RestartCause } from './types.ts';

export interface ManagedMachineDeps extends BaseMachineDeps {
  config: AgentConfig;
  accelerator: 'kvm' | 'tcg';
  qemuBinary: string;
  /** Whether the VM disk exists (VM_DISK present or created). */
  hasDisk: boolean;
  /** VM_EXTRA_DISKS entries that exist (present or created). */
  extraDisks?: readonly string[];
  /** Where the QEMU PID is kept so a restarted agent can adopt the running VM. */
  pidFile: string;
}

export class ManagedMachine extends BaseMachine {
  readonly #config: AgentConfig;
  readonly #accelerator: 'kvm' | 'tcg';
  readonly #binary: string;
  readonly #hasDisk: boolean;
  readonly #extraDisks: readonly string[];
  readonly #pidFile: string;
  #proc: QemuProcess | null = null;
  /** A stop we asked for: its exit is not a crash. */
  #expectedExit = false;
  /** GracefulRestart: start again once the guest has powered off. */
  #restartAfterExit = false;
  #gracefulTimer: NodeJS.Timeout | null = null;
  /** A Once override was put into the running VM's boot order and will be used by its next reset. */
  #onceArmed = false;

  constructor(deps: ManagedMachineDeps) {
    super(deps);
    this.#config = deps.config;
    this.#accelerator = deps.accelerator;
    this.#binary = deps.qemuBinary;
    this.#hasDisk = deps.hasDisk;
    this.#extraDisks = deps.extraDisks ?? [];
    this.#pidFile = deps.pidFile;
  }

  /** PID of the running QEMU (tests and logs); null when off. */
  get pid(): number | null {
    return this.#proc?.pid ?? null;
  }

  /** Takes over a QEMU left running by a previous agent (SIGKILL, or VM_STOP_ON_EXIT=false). */
  async adoptRunning(): Promise<boolean> {
    const proc = await QemuProcess.adopt({ pidFile: this.#pidFile, qmpSocket: this.#config.qmpSocket, log: this.log });
    if (!proc) return false;
    this.#watch(proc);
    this.setPower('On');
    return true;
  }

  /** Power restore at agent start. */
  async powerOnAtStart(): Promise<void> {
    await this.serialize(() => this.#start('power-restore'));
  }

  protected liveQmp(): QmpClient | null {
    return this.#proc?.running ? this.#proc.qmp : null;
  }

  protected usbBootIndex(): number {
    return this.#indexes(this.bootOverride())['Usb'];
  }

  protected async performReset(type: ResetType): Promise<void> {
    const on = this.#proc !== null;
    switch (type) {
      case 'On':
        if (!on) await this.#start('chassis-control');
        return;
      case 'ForceOff':
        if (on) await this.#stopProcess();
        return;
      case 'GracefulShutdown':
        if (on) await this.#gracefulShutdown(() => this.#stopProcess());
        return;
      case 'PushPowerButton':
        // A short press: power on when off; when on, an ACPI power button event the guest may act on.
        if (!on) await this.#start('power-button');
        else await systemPowerdown(this.#qmp());
        return;
      case 'ForceRestart':
        this.#requireOn(type);
        this.cause = 'chassis-control';
        await systemReset(this.#qmp());
        return;
      case 'GracefulRestart':
        this.#requireOn(type);
        this.#restartAfterExit = true;
        await this.#gracefulShutdown(async () => {
          // The guest ignored ACPI: reset it instead, which is still a restart.
          this.#restartAfterExit = false;
          if (this.#proc) await systemReset(this.#qmp());
          this.setPower('On');
        });
        return;
      case 'PowerCycle':
        if (on) await this.#stopProcess();
        await this.#start('chassis-control');
        return;
      case 'Nmi':
        this.#requireOn(type);
        await injectNmi(this.#qmp());
        return;
    }
  }

  /**
   * Agent shutdown: ACPI power off with a bounded wait, then quit/kill. The VM's Off is not recorded as its last
   * state, so the 'previous' restore policy powers it back on when the agent returns.
   */
  async shutdown(graceful: boolean, timeoutMs: number): Promise<void> {
    this.recordPowerState = false;
    await this.serialize(async () => {
      const proc = this.#proc;
      if (!proc) return;
      this.#expectedExit = true;
      if (graceful) {
        await systemPowerdown(proc.qmp).catch(() => undefined);
        const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
        const quitTimer = setTimeout(() => void proc.stop(2_000), Math.max(0, timeoutMs - 2_000));
        await proc.exited;
        clearTimeout(timer);
        clearTimeout(quitTimer);
      } else {
        await proc.stop();
      }
    });
    await this.settled();
  }

  /** Leaves QEMU running (VM_STOP_ON_EXIT=false): only the QMP connection is closed; the next agent adopts it. */
  detach(): void {
    this.#proc?.qmp.close();
  }

  protected async applyBootOrderLive(override: BootOverride): Promise<void> {
    const proc = this.#proc;
    if (!proc?.running) return;
    const target = effectiveTarget(override);
    await this.#setBootIndexes(proc.qmp, bootClassOf(target));
    this.#onceArmed = override.enabled === 'Once' && bootClassOf(target) !== null;
  }

  #requireOn(type: ResetType): void {
    if (!this.#proc) throw new MachineError('conflict', `${type} needs the system to be powered on`);
  }

  #qmp(): QmpClient {
    const proc = this.#proc;
    if (!proc) throw new MachineError('conflict', 'the system is powered off');
    return proc.qmp;
  }

  #indexes(override: BootOverride): Record<BootClass, number> {
    return bootIndexes(defaultBootOrder(this.#config.vm.boot), bootClassOf(effectiveTarget(override)));
  }

  async #start(cause: RestartCause): Promise<void> {
    if (this.#proc) return;
    const override = this.bootOverride();
    this.setPower('PoweringOn');
    let proc: QemuProcess;
    try {
      const plan = await buildLaunchPlan({
        config: this.#config,
        uuid: this.info.uuid,
        accelerator: this.#accelerator,
        override,
        hasDisk: this.#hasDisk,
        extraDisks: this.#extraDisks,
      });
      // -S: QEMU starts paused, so media and the boot order are in place before the first instruction runs.
      const argv = [...buildQemuArgv(plan), '-S'];
      proc = await QemuProcess.spawn({
        binary: this.#binary,
        argv,
        qmpSocket: this.#config.qmpSocket,
        pidFile: this.#pidFile,
        log: this.log,
      });
    } catch (err) {
      this.setPower('Off');
      throw new MachineError('unavailable', (err as Error).message);
    }
    this.#watch(proc);
    try {
      const failed = await this.virtualMedia.plugAll(proc.qmp, this.#indexes(override)['Usb']);
      for (const media of failed) this.emit('media', media);
      if (this.virtualMedia.get('USB1').inserted) {
        // The USB disk was hot-plugged after QEMU built its firmware boot order; a reset while still paused rebuilds
        // it with the disk (and its bootindex) included.
        await resetAndWait(proc.qmp);
      }
      if (override.enabled === 'Once') {
        // This boot's order was fixed when QEMU built its firmware tables at start; put the devices back to
        // the default order now so the next reset (or reboot from the guest) boots normally.
        await this.#setBootIndexes(proc.qmp, null);
        await this.consumeOnce();
      }
      this.#onceArmed = false;
      await cont(proc.qmp);
    } catch (err) {
      this.log.error({ err: (err as Error).message }, 'QEMU started but could not be prepared; stopping it');
      await this.#stopProcess();
      throw new MachineError('unavailable', `power on failed: ${(err as Error).message}`);
    }
    this.cause = cause;
    this.setPower('On');
    this.log.info({ pid: proc.pid, accelerator: this.#accelerator, boot: override }, 'VM powered on');
  }

  #watch(proc: QemuProcess): void {
    this.#proc = proc;
    this.#expectedExit = false;
    proc.qmp.on('event', (event) => this.#onQmpEvent(proc, event));
    proc.on('exit', (info) => this.#onExit(proc, info));
  }

  #onQmpEvent(proc: QemuProcess, event: QmpEvent): void {
    this.log.debug({ event: event.event, data: event.data }, 'qmp event');
    this.virtualMedia.observe(event);
    if (event.event === 'RESET' && this.#onceArmed && proc === this.#proc) {
      // The reset that just happened built its boot order with the Once target first; restore it for later boots.
      this.#onceArmed = false;
      void this.#setBootIndexes(proc.qmp, null)
        .then(() => this.consumeOnce())
        .catch((err: Error) => this.log.warn({ err: err.message }, 'could not clear the one-time boot override'));
    }
    if (event.event === 'SHUTDOWN') this.log.info({ data: event.data }, 'VM shutting down');
  }

  #onExit(proc: QemuProcess, info: QemuExitInfo): void {
    if (proc !== this.#proc) return;
    this.#proc = null;
    this.#onceArmed = false;
    this.virtualMedia.forgetNodes();
    if (this.#gracefulTimer) clearTimeout(this.#gracefulTimer);
    this.#gracefulTimer = null;
    const crashed = info.signal !== null || (info.code !== 0 && info.code !== null);
    if (this.#expectedExit) this.log.info({ pid: proc.pid }, 'QEMU stopped');
    else if (crashed)
      this.log.warn(
        { pid: proc.pid, code: info.code, signal: info.signal, stderr: info.stderr.slice(-500) },
        'QEMU exited unexpectedly',
      );
    else this.log.info({ pid: proc.pid }, 'guest powered off');
    this.#expectedExit = false;
    this.setPower('Off');
    if (this.#restartAfterExit) {
      this.#restartAfterExit = false;
      this.serialize(() => this.#start('chassis-control')).catch((err: Error) =>
        this.log.error({ err: err.message }, 'restart after graceful shutdown failed'),
      );
    }
  }

  async #stopProcess(): Promise<void> {
    const proc = this.#proc;
    if (!proc) return;
    this.#expectedExit = true;
    this.setPower('PoweringOff');
    await proc.stop(5_000);
  }

  /** ACPI power button, then `fallback` when the guest has not powered off within the configured timeout. */
  async #gracefulShutdown(fallback: () => Promise<void>): Promise<void> {
    const proc = this.#proc;
    if (!proc) return;
    await systemPowerdown(proc.qmp);
    this.setPower('PoweringOff');
    if (this.#gracefulTimer) clearTimeout(this.#gracefulTimer);
    this.#gracefulTimer = setTimeout(() => {
      this.#gracefulTimer = null;
      if (this.#proc !== proc) return;
      this.log.info({ timeoutS: this.#config.gracefulShutdownTimeoutS }, 'guest ignored ACPI shutdown; forcing');
      this.serialize(fallback).catch((err: Error) => this.log.error({ err: err.message }, 'forced power off failed'));
    }, this.#config.gracefulShutdownTimeoutS * 1000);
    this.#gracefulTimer.unref();
  }

  /** qom-set bootindex so the next reset builds its boot order with `first` first (null = default order). */
  async #setBootIndexes(qmp: QmpClient, first: BootClass | null): Promise<void> {
    const wanted = bootIndexes(defaultBootOrder(this.#config.vm.boot), first);
    const devices: Array<[BootClass, string]> = [['Cd', DEVICE_IDS.cd]];
    if (this.#hasDisk && this.#config.vm.disk !== '') devices.push(['Hdd', DEVICE_IDS.disk]);
    if (this.#config.vm.networks.length > 0) devices.push(['Pxe', DEVICE_IDS.nic(0)]);
    if (this.virtualMedia.get('USB1').inserted) devices.push(['Usb', DEVICE_IDS.usbMedia]);
    // Two passes keep every bootindex unique at each step: first everything back to its default, then the new first.
    for (const pass of [false, true])
      for (const [cls, id] of devices) if ((cls === first) === pass) await setBootIndex(qmp, id, wanted[cls]);
  }
}

/** system_reset only queues the reset: wait for QEMU's RESET event so later bootindex changes come after it. */
async function resetAndWait(qmp: QmpClient, timeoutMs = 5_000): Promise<void> {
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      qmp.off('event', onEvent);
      reject(new Error(`no RESET event within ${timeoutMs} ms`));
    }, timeoutMs);
    function onEvent(e: QmpEvent) {
      if (e.event !== 'RESET') return;
      clearTimeout(timer);
      qmp.off('event', onEvent);
      resolve();
    }
    qmp.on('event', onEvent);
  });
  await systemReset(qmp);
  await done;
}
