// Firmware, disk creation and the accelerator probe with real QEMU.
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ManagedMachine } from '../../../bmc-agent/src/machine/managed-machine.ts';
import { chooseAccelerator } from '../../../bmc-agent/src/qemu/accel.ts';
import { QmpClient } from '../../../bmc-agent/src/qmp/client.ts';
import { qomGet, queryBlock } from '../../../bmc-agent/src/qmp/commands.ts';
import { type AgentRig, agentRig } from './support.ts';

let rig: AgentRig | null = null;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await rig?.cleanup();
  rig = null;
  for (const c of cleanups.splice(0)) await c();
});

async function blockDevices(r: AgentRig): Promise<string[]> {
  const qmp = new QmpClient({ target: { path: r.inspectSocket } });
  await qmp.connectWithRetry(20);
  try {
    return (await queryBlock(qmp)).map((b) => b.device || b.qdev || '');
  } finally {
    qmp.close();
  }
}

describe('firmware and disk', () => {
  it('VM_BOOT_MODE=uefi boots OVMF with a per-VM variable store in STATE_DIR; a Legacy override switches back', async () => {
    rig = await agentRig({ VM_BOOT_MODE: 'uefi' });
    const m = rig.machine as ManagedMachine;
    expect(m.bootOverride().mode).toBe('UEFI');
    await m.reset('On');
    expect(existsSync(join(rig.dir, 'OVMF_VARS_4M.fd'))).toBe(true);
    expect(await blockDevices(rig)).toEqual(expect.arrayContaining(['pflash0', 'pflash1']));
    await m.setBootOverride({ mode: 'Legacy' });
    await m.reset('PowerCycle');
    expect(await blockDevices(rig)).not.toContain('pflash0');
  });

  it('creates the disk with qemu-img only when VM_DISK_SIZE is set and the file is missing, and attaches it', async () => {
    rig = await agentRig({ VM_DISK: '/nonexistent-dir-for-test/never.qcow2' });
    expect(existsSync('/nonexistent-dir-for-test/never.qcow2')).toBe(false); // no size: never created
    await rig.cleanup();
    rig = null;

    const diskDir = await mkdtemp(join(tmpdir(), 'agent-disk-'));
    cleanups.push(() => rm(diskDir, { recursive: true, force: true }));
    const disk = join(diskDir, 'vm', 'disk.qcow2');
    rig = await agentRig({ VM_DISK: disk, VM_DISK_SIZE: '64M' });
    expect(statSync(disk).size).toBeGreaterThan(0);
    await (rig.machine as ManagedMachine).reset('On');
    expect(await blockDevices(rig)).toContain('disk0-drive');
  });
});

describe('extra disks and NICs', () => {
  it('attaches VM_EXTRA_DISKS after the first (created when sized, left out when missing) and NICs with the configured models and MACs', async () => {
    const diskDir = await mkdtemp(join(tmpdir(), 'agent-extra-'));
    cleanups.push(() => rm(diskDir, { recursive: true, force: true }));
    const raw = join(diskDir, 'existing.img');
    await writeFile(raw, Buffer.alloc(1024 * 1024));
    const created = join(diskDir, 'data', 'disk.qcow2');
    const missing = join(diskDir, 'missing.qcow2');
    rig = await agentRig({
      VM_DISK: join(diskDir, 'root.qcow2'),
      VM_DISK_SIZE: '32M',
      VM_EXTRA_DISKS: `${created},${missing},${raw}`,
      VM_EXTRA_DISK_SIZES: '16M,,',
      VM_NETWORKS: 'user,user',
      VM_NETWORK_MODELS: 'e1000,rtl8139',
      VM_NETWORK_MACS: '52:54:00:aa:bb:01,52:54:00:aa:bb:02',
    });
    expect(statSync(created).size).toBeGreaterThan(0);
    expect(existsSync(missing)).toBe(false);
    await (rig.machine as ManagedMachine).reset('On');
    const qmp = new QmpClient({ target: { path: rig.inspectSocket } });
    await qmp.connectWithRetry(20);
    try {
      const blocks = await queryBlock(qmp);
      const files = Object.fromEntries(
        blocks.filter((b) => /^disk\d-drive$/.test(b.device)).map((b) => [b.device, b.inserted?.file]),
      );
      // The missing disk is left out; the others keep their order after disk0.
      expect(files).toEqual({
        'disk0-drive': join(diskDir, 'root.qcow2'),
        'disk1-drive': created,
        'disk2-drive': raw,
      });
      expect(await qomGet(qmp, '/machine/peripheral/disk1', 'type')).toBe('virtio-blk-pci');
      expect(await qomGet(qmp, '/machine/peripheral/net0', 'type')).toBe('e1000');
      expect(await qomGet(qmp, '/machine/peripheral/net0', 'mac')).toBe('52:54:00:aa:bb:01');
      expect(await qomGet(qmp, '/machine/peripheral/net1', 'type')).toBe('rtl8139');
      expect(await qomGet(qmp, '/machine/peripheral/net1', 'mac')).toBe('52:54:00:aa:bb:02');
    } finally {
      qmp.close();
    }
  });
});

describe('accelerator probe', () => {
  it('skips KVM when disabled or when the device is missing', async () => {
    expect(await chooseAccelerator({ mode: 'tcg', qemuBinary: 'qemu-system-x86_64' })).toEqual({
      accelerator: 'tcg',
      reason: 'TCG configured (VM_ACCELERATOR=tcg or ENABLE_KVM=false)',
    });
    const missing = await chooseAccelerator({
      mode: 'auto',
      qemuBinary: 'qemu-system-x86_64',
      kvmDevice: '/dev/no-such-kvm',
    });
    expect(missing).toEqual({ accelerator: 'tcg', reason: '/dev/no-such-kvm is not accessible' });
  });

  it('gives a bounded, explained answer on this host', async () => {
    const result = await chooseAccelerator({ mode: 'auto', qemuBinary: 'qemu-system-x86_64', timeoutMs: 4_000 });
    if (result.accelerator === 'kvm') expect(result.reason).toMatch(/reached its boot attempt in \d+ ms/);
    else expect(result.reason).toMatch(/not accessible|no progress within 4000 ms/);
  });
});
