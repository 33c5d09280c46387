// Builds the Machine for the configured mode: identity, accelerator, disk, then the managed or attached model.
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { BmcStore } from '../bmc/types.ts';
import { type AgentConfig, ConfigError } from '../config.ts';
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
  const accel = await chooseAccelerator({ mode: config.vm.accelerator, qemuBinary: binary });
  // VM_ACCELERATOR=kvm means KVM or nothing: a silent fall back to TCG would hide a broken node.
  if (config.vm.accelerator === 'kvm' && accel.accelerator !== 'kvm')
    throw new ConfigError('VM_ACCELERATOR', `is kvm but KVM does not work here (${accel.reason})`, undefined);
  log.info({ accelerator: accel.accelerator, reason: accel.reason }, 'accelerator chosen');
  let hasDisk = false;
  if (config.vm.disk !== '') {
    const disk = await ensureDisk(config.vm.disk, config.vm.diskSize);
    hasDisk = disk !== 'missing';
    if (disk === 'created') log.info({ disk: config.vm.disk, size: config.vm.diskSize }, 'VM disk created');
    if (disk === 'missing')
      log.warn({ disk: config.vm.disk }, 'VM disk does not exist and VM_DISK_SIZE is unset: the VM has no disk');
  }
  const extraDisks: string[] = [];
  for (const extra of config.vm.extraDisks) {
    const disk = await ensureDisk(extra.path, extra.size);
    if (disk === 'created') log.info({ disk: extra.path, size: extra.size }, 'extra VM disk created');
    if (disk === 'missing')
      log.warn({ disk: extra.path }, 'extra VM disk does not exist and has no size in VM_EXTRA_DISK_SIZES: left out');
    else extraDisks.push(extra.path);
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
    extraDisks,
    pidFile: join(config.stateDir, 'qemu.pid'),
  });
  await machine.adoptRunning();
  return machine;
}
