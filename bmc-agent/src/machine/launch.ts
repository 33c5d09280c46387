// From configuration + the boot override of this boot to a QEMU launch plan (managed mode).
import { access, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentConfig } from '../config.ts';
import { type BootClass, bootClassOf, defaultBootOrder, type Firmware, type LaunchPlan } from '../qemu/argv.ts';
import { diskFormat } from '../qemu/disk.ts';
import { vmNicMacs } from '../qemu/identity.ts';
import { effectiveTarget } from './boot.ts';
import type { BootOverride } from './types.ts';

/** OVMF builds shipped by Debian's ovmf package, 4M first; CODE and VARS must come from the same pair. */
const OVMF_PAIRS = [
  { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.fd' },
  { code: '/usr/share/OVMF/OVMF_CODE.fd', vars: '/usr/share/OVMF/OVMF_VARS.fd' },
];

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** OVMF code plus this VM's own copy of the variable store (kept in STATE_DIR so UEFI settings persist). */
export async function uefiFirmware(stateDir: string): Promise<Firmware> {
  for (const pair of OVMF_PAIRS) {
    if (!(await exists(pair.code)) || !(await exists(pair.vars))) continue;
    const vars = join(stateDir, pair.vars.endsWith('_4M.fd') ? 'OVMF_VARS_4M.fd' : 'OVMF_VARS.fd');
    if (!(await exists(vars))) await copyFile(pair.vars, vars);
    return { kind: 'uefi', code: pair.code, vars };
  }
  throw new Error('UEFI boot needs OVMF (/usr/share/OVMF/OVMF_CODE*.fd); install the ovmf package');
}

export interface LaunchInputs {
  config: AgentConfig;
  uuid: string;
  accelerator: 'kvm' | 'tcg';
  override: BootOverride;
  /** Whether the disk file exists (created or provided). */
  hasDisk: boolean;
  /** VM_EXTRA_DISKS entries whose file exists (missing ones are left out, with a warning at start). */
  extraDisks?: readonly string[];
}

/** BiosSetup: hold the firmware in its boot menu long enough for someone on the console to act. */
const SETUP_MENU_MS = 30_000;

export async function buildLaunchPlan(inputs: LaunchInputs): Promise<LaunchPlan> {
  const { config, uuid, override } = inputs;
  const vm = config.vm;
  const target = effectiveTarget(override);
  const firmware: Firmware = override.mode === 'UEFI' ? await uefiFirmware(config.stateDir) : { kind: 'bios' };
  const bootFirst: BootClass | null = bootClassOf(target);
  return {
    accelerator: inputs.accelerator,
    name: `vm-${uuid.slice(0, 8)}`,
    uuid,
    memoryMiB: vm.memoryMiB,
    cpus: vm.cpus,
    qmpSocket: config.qmpSocket,
    vnc: { host: config.vncAddr.host, port: vm.vncPort },
    serial: config.serialAddr,
    vmIpmi: config.vmIpmiAddr
      ? {
          // QEMU connects to the agent's listener; an all-interfaces listener is reached over loopback.
          host: ['0.0.0.0', '::', ''].includes(config.vmIpmiAddr.host) ? '127.0.0.1' : config.vmIpmiAddr.host,
          port: config.vmIpmiAddr.port,
        }
      : null,
    firmware,
    disk: inputs.hasDisk && vm.disk !== '' ? { path: vm.disk, format: diskFormat(vm.disk) } : null,
    extraDisks: (inputs.extraDisks ?? []).map((path) => ({ path, format: diskFormat(path) })),
    cdrom: vm.cdrom ? { file: vm.cdrom, driver: null } : null,
    usbMedia: null,
    nics: vmNicMacs(vm, uuid).map((mac, i) => ({
      backend: vm.networks[i] as string,
      mac,
      model: vm.networkModels[i] ?? 'virtio-net-pci',
    })),
    bootFirst,
    defaultOrder: defaultBootOrder(vm.boot),
    bootMenuMs: target === 'BiosSetup' ? SETUP_MENU_MS : vm.bootMenuTimeoutMs,
    extraArgs: vm.extraArgs,
  };
}
