// Pure QEMU argv builder: launch plan in, string array out. Never goes through a shell.
import type { BootDevice, HostPort, NicModel } from '../config.ts';
import type { BootTarget } from '../machine/types.ts';

/** Device ids the machine model addresses over QMP; stable so attach mode can find them in a QEMU we started. */
export const DEVICE_IDS = {
  disk: 'disk0',
  /** VM_EXTRA_DISKS entry i (0-based) is disk<i+1>. */
  extraDisk: (i: number) => `disk${i + 1}`,
  cdDrive: 'ide2-cd0',
  cd: 'cd0',
  usbMediaDrive: 'usb-media0',
  usbMedia: 'usb-media-dev0',
  xhci: 'xhci0',
  nic: (i: number) => `net${i}`,
} as const;

export type Firmware = { kind: 'bios' } | { kind: 'uefi'; code: string; vars: string };

export interface NicPlan {
  /** Host TAP interface name, or 'user' for QEMU user-mode networking. */
  backend: string;
  mac: string;
  model: NicModel;
}

/** Bootable device classes, in the order VM_BOOT and the boot override speak of them. */
export type BootClass = 'Hdd' | 'Cd' | 'Pxe' | 'Usb';

export interface LaunchPlan {
  accelerator: 'kvm' | 'tcg';
  name: string;
  uuid: string;
  memoryMiB: number;
  cpus: number;
  qmpSocket: string;
  /** VNC listens here; port must be >= 5900 (QEMU takes a display number). */
  vnc: HostPort | null;
  /** Serial port 0 as a TCP server (SOL bridge target). */
  serial: HostPort | null;
  /** ipmi-bmc-extern connects (as client, with reconnect) to the agent's in-band listener here. */
  vmIpmi: HostPort | null;
  firmware: Firmware;
  disk: { path: string; format: 'qcow2' | 'raw' } | null;
  /** Further virtio-blk disks after the first (VM_EXTRA_DISKS); not in the boot order. */
  extraDisks: Array<{ path: string; format: 'qcow2' | 'raw' }>;
  /** Medium in the CD drive at start; null = empty drive (still present, so media can be inserted later). */
  cdrom: { file: string; driver: Record<string, unknown> | null } | null;
  /** Medium plugged as the removable USB disk at start; null = not plugged. */
  usbMedia: { file: string; readOnly: boolean } | null;
  nics: NicPlan[];
  /** Device class that boots first this time (the boot override), or null for the default order. */
  bootFirst: BootClass | null;
  /** Default boot order (from VM_BOOT). */
  defaultOrder: BootClass[];
  /** Show the firmware boot menu / wait in setup (BiosSetup override or VM_BOOT_MENU_TIMEOUT). */
  bootMenuMs: number;
  extraArgs: string[];
}

const BOOT_CLASS: Record<BootDevice, BootClass> = { c: 'Hdd', d: 'Cd', n: 'Pxe' };

/** Default boot order for VM_BOOT: the named devices first, in that order; the others after (Hdd, Cd, Pxe, Usb). */
export function defaultBootOrder(vmBoot: BootDevice | readonly BootDevice[]): BootClass[] {
  const listed = (typeof vmBoot === 'string' ? [vmBoot] : vmBoot).map((d) => BOOT_CLASS[d]);
  return [...listed, ...(['Hdd', 'Cd', 'Pxe', 'Usb'] as const).filter((c) => !listed.includes(c))];
}

/** Maps a boot override target to a device class; None and BiosSetup do not name a device. */
export function bootClassOf(target: BootTarget): BootClass | null {
  return target === 'Pxe' || target === 'Cd' || target === 'Hdd' || target === 'Usb' ? target : null;
}

/**
 * bootindex per device class: the default order gets 10, 11, ...; the override's class gets 1.
 * Distinct values let the machine later put a device back with qom-set without a collision.
 */
export function bootIndexes(defaultOrder: BootClass[], first: BootClass | null): Record<BootClass, number> {
  const result = { Hdd: 0, Cd: 0, Pxe: 0, Usb: 0 };
  defaultOrder.forEach((c, i) => {
    result[c] = 10 + i * 10;
  });
  if (first) result[first] = 1;
  return result;
}

/** QEMU option values escape ',' by doubling it. */
function optValue(value: string): string {
  return value.replace(/,/g, ',,');
}

function chardevSocket(id: string, addr: HostPort, role: 'server' | 'client'): string {
  const host = addr.host.includes(':') ? `[${addr.host}]` : addr.host;
  const mode = role === 'server' ? 'server=on,wait=off' : 'reconnect=1';
  return `socket,id=${id},host=${host},port=${addr.port},${mode}`;
}

export function buildQemuArgv(plan: LaunchPlan): string[] {
  const boot = bootIndexes(plan.defaultOrder, plan.bootFirst);
  const argv: string[] = [
    '-name',
    `${optValue(plan.name)},debug-threads=on`,
    '-machine',
    `q35,accel=${plan.accelerator}`,
    '-nodefaults',
    '-no-user-config',
    '-m',
    String(plan.memoryMiB),
    '-smp',
    String(plan.cpus),
    '-uuid',
    plan.uuid,
    '-smbios',
    `type=1,manufacturer=QEMU,product=qemu-bmc,serial=${plan.uuid},uuid=${plan.uuid}`,
    '-qmp',
    `unix:${optValue(plan.qmpSocket)},server=on,wait=off`,
    '-display',
    'none',
    '-device',
    'VGA',
  ];
  if (plan.accelerator === 'kvm') argv.push('-cpu', 'host');
  if (plan.vnc) {
    if (plan.vnc.port < 5900) throw new Error(`VNC port ${plan.vnc.port} is below 5900`);
    argv.push('-vnc', `${plan.vnc.host}:${plan.vnc.port - 5900}`);
  }
  if (plan.firmware.kind === 'uefi') {
    argv.push(
      '-drive',
      `if=pflash,format=raw,unit=0,readonly=on,file=${optValue(plan.firmware.code)}`,
      '-drive',
      `if=pflash,format=raw,unit=1,file=${optValue(plan.firmware.vars)}`,
    );
  }
  if (plan.serial) argv.push('-chardev', chardevSocket('serial0', plan.serial, 'server'), '-serial', 'chardev:serial0');
  if (plan.vmIpmi) {
    argv.push(
      '-chardev',
      chardevSocket('ipmi0', plan.vmIpmi, 'client'),
      '-device',
      'ipmi-bmc-extern,id=bmc0,chardev=ipmi0',
      '-device',
      'isa-ipmi-kcs,bmc=bmc0',
    );
  }
  if (plan.disk) {
    argv.push(
      '-drive',
      `if=none,id=${DEVICE_IDS.disk}-drive,format=${plan.disk.format},file=${optValue(plan.disk.path)}`,
      '-device',
      `virtio-blk-pci,id=${DEVICE_IDS.disk},drive=${DEVICE_IDS.disk}-drive,bootindex=${boot.Hdd}`,
    );
  }
  plan.extraDisks.forEach((d, i) => {
    const id = DEVICE_IDS.extraDisk(i);
    argv.push(
      '-drive',
      `if=none,id=${id}-drive,format=${d.format},file=${optValue(d.path)}`,
      '-device',
      `virtio-blk-pci,id=${id},drive=${id}-drive`,
    );
  });
  // The CD drive always exists (empty when no medium) so virtual media can be inserted at any time.
  const cdFile = plan.cdrom ? `,file=${optValue(plan.cdrom.file)}` : '';
  argv.push(
    '-drive',
    `if=none,id=${DEVICE_IDS.cdDrive},media=cdrom,readonly=on${cdFile}`,
    '-device',
    `ide-cd,id=${DEVICE_IDS.cd},drive=${DEVICE_IDS.cdDrive},bus=ide.2,bootindex=${boot.Cd}`,
  );
  argv.push('-device', `qemu-xhci,id=${DEVICE_IDS.xhci}`, '-device', 'usb-tablet,bus=xhci0.0');
  if (plan.usbMedia) {
    argv.push(
      '-drive',
      `if=none,id=${DEVICE_IDS.usbMediaDrive},format=raw,readonly=${plan.usbMedia.readOnly ? 'on' : 'off'},file=${optValue(plan.usbMedia.file)}`,
      '-device',
      `usb-storage,id=${DEVICE_IDS.usbMedia},bus=xhci0.0,drive=${DEVICE_IDS.usbMediaDrive},removable=on,bootindex=${boot.Usb}`,
    );
  }
  plan.nics.forEach((nic, i) => {
    const id = DEVICE_IDS.nic(i);
    const backend =
      nic.backend === 'user'
        ? `user,id=${id}-backend`
        : `tap,id=${id}-backend,ifname=${nic.backend},script=no,downscript=no`;
    // Only the first NIC takes part in the boot order; PXE from one NIC is what provisioning systems expect.
    const bootindex = i === 0 ? `,bootindex=${boot.Pxe}` : '';
    argv.push('-netdev', backend, '-device', `${nic.model},id=${id},netdev=${id}-backend,mac=${nic.mac}${bootindex}`);
  });
  if (plan.bootMenuMs > 0) argv.push('-boot', `menu=on,splash-time=${plan.bootMenuMs}`);
  argv.push(...plan.extraArgs);
  return argv;
}
