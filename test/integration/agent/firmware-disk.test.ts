// Firmware, disk creation and the accelerator probe with real QEMU.
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ManagedMachine } from '../../../bmc-agent/src/machine/managed-machine.ts';
import { chooseAccelerator } from '../../../bmc-agent/src/qemu/accel.ts';
import { QmpClient } from '../../../bmc-agent/src/qmp/client.ts';
import { queryBlock } from '../../../bmc-agent/src/qmp/commands.ts';
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

describe('accelerator probe', () => {
  it('skips KVM when disabled or when the device is missing', async () => {
    expect(await chooseAccelerator({ enableKvm: false, qemuBinary: 'qemu-system-x86_64' })).toEqual({
      accelerator: 'tcg',
      reason: 'ENABLE_KVM=false',
    });
    const missing = await chooseAccelerator({
      enableKvm: true,
      qemuBinary: 'qemu-system-x86_64',
      kvmDevice: '/dev/no-such-kvm',
    });
    expect(missing).toEqual({ accelerator: 'tcg', reason: '/dev/no-such-kvm is not accessible' });
  });

  it('gives a bounded, explained answer on this host', async () => {
    const result = await chooseAccelerator({ enableKvm: true, qemuBinary: 'qemu-system-x86_64', timeoutMs: 4_000 });
    if (result.accelerator === 'kvm') expect(result.reason).toMatch(/reached its boot attempt in \d+ ms/);
    else expect(result.reason).toMatch(/not accessible|no progress within 4000 ms/);
  });
});
