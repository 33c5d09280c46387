import { describe, expect, it } from 'vitest';
import { bootIndexes, buildQemuArgv, defaultBootOrder, type LaunchPlan } from '../../../bmc-agent/src/qemu/argv.ts';
import { derivedMac, vmNicMacs } from '../../../bmc-agent/src/qemu/identity.ts';

const uuid = '6a0f7c3e-1d2b-4c5d-8e9f-0a1b2c3d4e5f';
const base: LaunchPlan = {
  accelerator: 'tcg',
  name: 'vm-test',
  uuid,
  memoryMiB: 128,
  cpus: 1,
  qmpSocket: '/state/qmp.sock',
  vnc: { host: '127.0.0.1', port: 5901 },
  serial: { host: '127.0.0.1', port: 9003 },
  vmIpmi: null,
  firmware: { kind: 'bios' },
  disk: null,
  extraDisks: [],
  cdrom: null,
  usbMedia: null,
  nics: [],
  bootFirst: null,
  defaultOrder: defaultBootOrder('c'),
  bootMenuMs: 0,
  extraArgs: [],
};

/** The value following each occurrence of `flag`. */
function values(argv: string[], flag: string): string[] {
  return argv.flatMap((a, i) => (a === flag ? [argv[i + 1]!] : []));
}

describe('buildQemuArgv', () => {
  it('builds a q35 TCG machine with SMBIOS UUID, QMP, VNC, serial server and an empty CD drive', () => {
    const argv = buildQemuArgv(base);
    expect(values(argv, '-machine')).toEqual(['q35,accel=tcg']);
    expect(argv).not.toContain('-enable-kvm');
    expect(values(argv, '-uuid')).toEqual([uuid]);
    expect(values(argv, '-smbios')[0]).toContain(`type=1,`);
    expect(values(argv, '-smbios')[0]).toContain(`uuid=${uuid}`);
    expect(values(argv, '-qmp')).toEqual(['unix:/state/qmp.sock,server=on,wait=off']);
    expect(values(argv, '-vnc')).toEqual(['127.0.0.1:1']);
    expect(values(argv, '-chardev')).toEqual(['socket,id=serial0,host=127.0.0.1,port=9003,server=on,wait=off']);
    expect(values(argv, '-serial')).toEqual(['chardev:serial0']);
    expect(values(argv, '-m')).toEqual(['128']);
    expect(values(argv, '-smp')).toEqual(['1']);
    expect(values(argv, '-drive')).toContain('if=none,id=ide2-cd0,media=cdrom,readonly=on');
    expect(values(argv, '-device')).toContain('ide-cd,id=cd0,drive=ide2-cd0,bus=ide.2,bootindex=20');
    expect(values(argv, '-device')).toContain('qemu-xhci,id=xhci0');
  });

  it('uses KVM with the host CPU only when the plan says so', () => {
    const argv = buildQemuArgv({ ...base, accelerator: 'kvm' });
    expect(values(argv, '-machine')).toEqual(['q35,accel=kvm']);
    expect(values(argv, '-cpu')).toEqual(['host']);
  });

  it('adds OVMF code (read-only) and the per-VM variable store for UEFI', () => {
    const argv = buildQemuArgv({ ...base, firmware: { kind: 'uefi', code: '/ovmf/CODE.fd', vars: '/state/VARS.fd' } });
    expect(values(argv, '-drive')).toContain('if=pflash,format=raw,unit=0,readonly=on,file=/ovmf/CODE.fd');
    expect(values(argv, '-drive')).toContain('if=pflash,format=raw,unit=1,file=/state/VARS.fd');
  });

  it('connects ipmi-bmc-extern to the agent as a reconnecting client, with a KCS interface', () => {
    const argv = buildQemuArgv({ ...base, vmIpmi: { host: '127.0.0.1', port: 9002 } });
    expect(values(argv, '-chardev')).toContain('socket,id=ipmi0,host=127.0.0.1,port=9002,reconnect=1');
    expect(values(argv, '-device')).toEqual(
      expect.arrayContaining(['ipmi-bmc-extern,id=bmc0,chardev=ipmi0', 'isa-ipmi-kcs,bmc=bmc0']),
    );
  });

  it('puts the override device first (bootindex 1) and the others in VM_BOOT order', () => {
    const mac = derivedMac(uuid, 'nic0');
    const argv = buildQemuArgv({
      ...base,
      disk: { path: '/vm/disk.qcow2', format: 'qcow2' },
      nics: [
        { backend: 'tap0', mac, model: 'virtio-net-pci' },
        { backend: 'user', mac: derivedMac(uuid, 'nic1'), model: 'virtio-net-pci' },
      ],
      bootFirst: 'Pxe',
    });
    const devices = values(argv, '-device');
    expect(devices).toContain('virtio-blk-pci,id=disk0,drive=disk0-drive,bootindex=10');
    expect(devices).toContain(`virtio-net-pci,id=net0,netdev=net0-backend,mac=${mac}${',bootindex=1'}`);
    expect(devices.find((d) => d.includes('id=net1'))).not.toContain('bootindex');
    expect(values(argv, '-netdev')).toEqual([
      'tap,id=net0-backend,ifname=tap0,script=no,downscript=no',
      'user,id=net1-backend',
    ]);
  });

  it('adds VM_EXTRA_DISKS as further virtio-blk disks after the first, outside the boot order', () => {
    const argv = buildQemuArgv({
      ...base,
      disk: { path: '/vm/disks/root/disk.qcow2', format: 'qcow2' },
      extraDisks: [
        { path: '/vm/disks/data/disk.qcow2', format: 'qcow2' },
        { path: '/vm/disks/scratch.img', format: 'raw' },
      ],
    });
    expect(values(argv, '-drive').filter((d) => d.includes('id=disk'))).toEqual([
      'if=none,id=disk0-drive,format=qcow2,file=/vm/disks/root/disk.qcow2',
      'if=none,id=disk1-drive,format=qcow2,file=/vm/disks/data/disk.qcow2',
      'if=none,id=disk2-drive,format=raw,file=/vm/disks/scratch.img',
    ]);
    expect(values(argv, '-device').filter((d) => d.includes('id=disk'))).toEqual([
      'virtio-blk-pci,id=disk0,drive=disk0-drive,bootindex=10',
      'virtio-blk-pci,id=disk1,drive=disk1-drive',
      'virtio-blk-pci,id=disk2,drive=disk2-drive',
    ]);
  });

  it('gives each NIC its configured model and MAC (VM_NETWORK_MODELS, VM_NETWORK_MACS)', () => {
    const argv = buildQemuArgv({
      ...base,
      nics: [
        { backend: 'tap0', mac: '52:54:00:aa:bb:01', model: 'e1000' },
        { backend: 'tap1', mac: '52:54:00:aa:bb:02', model: 'rtl8139' },
        { backend: 'user', mac: '02:00:00:00:00:03', model: 'e1000e' },
      ],
    });
    expect(values(argv, '-device').filter((d) => d.includes('netdev='))).toEqual([
      'e1000,id=net0,netdev=net0-backend,mac=52:54:00:aa:bb:01,bootindex=30',
      'rtl8139,id=net1,netdev=net1-backend,mac=52:54:00:aa:bb:02',
      'e1000e,id=net2,netdev=net2-backend,mac=02:00:00:00:00:03',
    ]);
  });

  it('escapes commas in paths instead of letting them add options', () => {
    const argv = buildQemuArgv({ ...base, disk: { path: '/vm/a,format=raw', format: 'qcow2' } });
    expect(values(argv, '-drive')).toContain('if=none,id=disk0-drive,format=qcow2,file=/vm/a,,format=raw');
  });

  it('appends QEMU_EXTRA_ARGS last, as separate words, and the boot menu when asked', () => {
    const argv = buildQemuArgv({ ...base, extraArgs: ['-device', 'virtio-rng-pci'], bootMenuMs: 5000 });
    expect(argv.slice(-2)).toEqual(['-device', 'virtio-rng-pci']);
    expect(values(argv, '-boot')).toEqual(['menu=on,splash-time=5000']);
  });

  it('refuses a VNC port below 5900', () => {
    expect(() => buildQemuArgv({ ...base, vnc: { host: '127.0.0.1', port: 5800 } })).toThrow(/below 5900/);
  });
});

describe('boot order', () => {
  it('VM_BOOT picks the default first device', () => {
    expect(defaultBootOrder('c')).toEqual(['Hdd', 'Cd', 'Pxe', 'Usb']);
    expect(defaultBootOrder('d')).toEqual(['Cd', 'Hdd', 'Pxe', 'Usb']);
    expect(defaultBootOrder('n')).toEqual(['Pxe', 'Hdd', 'Cd', 'Usb']);
  });
  it("a VM_BOOT list (the operator's bootOrder) sets the order; unlisted devices follow", () => {
    expect(defaultBootOrder(['n', 'c'])).toEqual(['Pxe', 'Hdd', 'Cd', 'Usb']);
    expect(defaultBootOrder(['c', 'n'])).toEqual(['Hdd', 'Pxe', 'Cd', 'Usb']);
    expect(defaultBootOrder(['d', 'n', 'c'])).toEqual(['Cd', 'Pxe', 'Hdd', 'Usb']);
    expect(bootIndexes(defaultBootOrder(['c', 'n']), null)).toEqual({ Hdd: 10, Pxe: 20, Cd: 30, Usb: 40 });
  });
  it('bootindexes are distinct, the override gets 1', () => {
    const idx = bootIndexes(defaultBootOrder('c'), 'Usb');
    expect(idx).toEqual({ Hdd: 10, Cd: 20, Pxe: 30, Usb: 1 });
    expect(new Set(Object.values(idx)).size).toBe(4);
  });
});

describe('derivedMac', () => {
  it('is stable per UUID and role, unicast, and locally administered for the BMC', () => {
    expect(derivedMac(uuid, 'bmc')).toBe(derivedMac(uuid, 'bmc'));
    expect(derivedMac(uuid, 'bmc')).not.toBe(derivedMac(uuid, 'nic0'));
    expect(derivedMac(uuid, 'bmc')).toMatch(/^02(:[0-9a-f]{2}){5}$/);
    expect(derivedMac(uuid, 'nic0')).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
  });
  it('configured NIC MACs win over derived ones', () => {
    expect(vmNicMacs({ networks: ['eth0', 'user'], networkMacs: [] }, uuid)).toEqual([
      derivedMac(uuid, 'nic0'),
      derivedMac(uuid, 'nic1'),
    ]);
    const macs = ['52:54:00:00:00:01', '52:54:00:00:00:02'];
    expect(vmNicMacs({ networks: ['eth0', 'user'], networkMacs: macs }, uuid)).toEqual(macs);
  });
});
