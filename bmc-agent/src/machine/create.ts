// Builds the Machine for the configured mode: identity, accelerator, disk, then the managed or attached model.
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { BmcStore } from '../bmc/types.ts';
import type { AgentConfig } from '../config.ts';
import { chooseAccelerator } from '../qemu/accel.ts';
import { ensureDisk } from '../qemu/disk.ts';
import { AttachedMachine } from './attached-machine.ts';
import type { PowerActionObserver } from './base-machine.ts';
import { ManagedMachine } from './managed-machine.ts';
import { VirtualMedia } from './media.ts';

export const QEMU_BINARY = 'qemu-system-x86_64';

export interface CreateMachineOptions {
  config: AgentConfig;
  store: BmcStore;
  log: Logger;
  uuid: string;
  onPowerAction?: PowerActionObserver;
  qemuBinary?: string;
}

export type AgentMachine = ManagedMachine | AttachedMachine;

export async function createMachine(options: CreateMachineOptions): Promise<AgentMachine> {
  const { config, store, log, uuid } = options;
  const media = new VirtualMedia({ log: log.child({ component: 'media' }), tlsVerify: config.virtualMediaTlsVerify });
  const machineLog = log.child({ component: 'machine' });
  if (config.mode === 'attach') {
    const machine = new AttachedMachine({
      info: { uuid, cpus: config.vm.cpus, memoryMiB: config.vm.memoryMiB, mode: 'attach', accelerator: 'unknown' },
      store,
      media,
      log: machineLog,
      onPowerAction: options.onPowerAction,
      qmpSocket: config.qmpSocket,
      gracefulShutdownTimeoutS: config.gracefulShutdownTimeoutS,
    });
    machine.connect();
    return machine;
  }
  const binary = options.qemuBinary ?? QEMU_BINARY;
  const accel = await chooseAccelerator({ enableKvm: config.vm.enableKvm, qemuBinary: binary });
  log.info({ accelerator: accel.accelerator, reason: accel.reason }, 'accelerator chosen');
  let hasDisk = false;
  if (config.vm.disk !== '') {
    const disk = await ensureDisk(config.vm.disk, config.vm.diskSize);
    hasDisk = disk !== 'missing';
    if (disk === 'created') log.info({ disk: config.vm.disk, size: config.vm.diskSize }, 'VM disk created');
    if (disk === 'missing')
      log.warn({ disk: config.vm.disk }, 'VM disk does not exist and VM_DISK_SIZE is unset: the VM has no disk');
  }
  const machine = new ManagedMachine({
    info: {
      uuid,
      cpus: config.vm.cpus,
      memoryMiB: config.vm.memoryMiB,
      mode: 'managed',
      accelerator: accel.accelerator,
    },
    store,
    media,
    log: machineLog,
    onPowerAction: options.onPowerAction,
    config,
    accelerator: accel.accelerator,
    qemuBinary: binary,
    hasDisk,
    pidFile: join(config.stateDir, 'qemu.pid'),
  });
  await machine.adoptRunning();
  return machine;
}
