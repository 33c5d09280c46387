import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FileBmcStore, STATE_FILE_NAME } from '../../../bmc-agent/src/bmc/store.ts';
import { parseConfig } from '../../../bmc-agent/src/config.ts';
import { silentLogger } from '../../../bmc-agent/src/log.ts';
import { AttachedMachine } from '../../../bmc-agent/src/machine/attached-machine.ts';
import { createMachine } from '../../../bmc-agent/src/machine/create.ts';
import { QmpClient } from '../../../bmc-agent/src/qmp/client.ts';
import { queryStatus } from '../../../bmc-agent/src/qmp/commands.ts';
import { guestFixture } from '../../support/guest.ts';
import { type QemuInstance, startQemu, stopAllQemu } from '../../support/qemu.ts';
import { waitForPower } from './support.ts';

interface AttachRig {
  qemu: QemuInstance;
  machine: AttachedMachine;
  inspect: string;
  dir: string;
}
let rig: AttachRig | null = null;
afterEach(async () => {
  await rig?.machine.close();
  await rig?.qemu.stop();
  if (rig) await rm(rig.dir, { recursive: true, force: true });
  rig = null;
});
afterAll(stopAllQemu);

async function attachTo(qmpSocket: string, dir: string): Promise<AttachedMachine> {
  const config = parseConfig(
    { QEMU_MODE: 'attach', QMP_SOCK: qmpSocket, STATE_DIR: dir, IPMI_PASS: 'pw', BMC_ADDRESS: '127.0.0.1' },
    {
      primaryIPv4: () => null,
    },
  );
  const store = await FileBmcStore.open({
    path: join(dir, STATE_FILE_NAME),
    seed: {
      adminUser: 'admin',
      adminPassword: 'pw',
      address: '127.0.0.1',
      macAddress: '02:00:00:00:00:02',
      powerRestorePolicy: 'previous',
    },
  });
  const machine = await createMachine({
    config,
    store,
    log: silentLogger(),
    uuid: '11111111-2222-4333-8444-555555555555',
  });
  if (!(machine instanceof AttachedMachine)) throw new Error('expected attach mode');
  return machine;
}

async function startAttached(args: string[] = []): Promise<AttachRig> {
  const dir = await mkdtemp(join(tmpdir(), 'agent-attach-'));
  const inspect = join(dir, 'inspect.sock');
  const qemu = await startQemu({
    machine: 'q35',
    memoryMiB: 128,
    serial: 'none',
    args: ['-no-shutdown', '-qmp', `unix:${inspect},server=on,wait=off`, ...args],
  });
  const machine = await attachTo(qemu.qmpPath, dir);
  await waitForPower(machine, 'On', 15_000);
  return { qemu, machine, inspect, dir };
}

async function status(r: AttachRig): Promise<string> {
  const qmp = new QmpClient({ target: { path: r.inspect } });
  await qmp.connectWithRetry(20);
  try {
    return (await queryStatus(qmp)).status;
  } finally {
    qmp.close();
  }
}

describe('attach mode', () => {
  it('follows a running QEMU; ForceOff pauses it (Off), On runs it, PowerCycle and ForceRestart keep the process', async () => {
    rig = await startAttached();
    const m = rig.machine;
    expect(m.info.mode).toBe('attach');
    expect(m.powerState()).toBe('On');
    await m.reset('ForceOff');
    expect(m.powerState()).toBe('Off');
    expect(await status(rig)).not.toBe('running');
    await m.reset('On');
    expect(m.powerState()).toBe('On');
    expect(await status(rig)).toBe('running');
    await m.reset('PowerCycle');
    await m.reset('ForceRestart');
    expect(await status(rig)).toBe('running');
    expect(rig.qemu.pid).toBeGreaterThan(0);
    await expect(rig.qemu.waitForExit(200)).rejects.toThrow(); // still the same process, still alive
  });

  it('a guest power off under -no-shutdown shows Off, and On boots it again', async () => {
    const fixture = guestFixture();
    const cmd = Buffer.from('echo bye').toString('base64');
    rig = await startAttached([
      '-kernel',
      fixture.kernel,
      '-initrd',
      fixture.initrd,
      '-append',
      `console=ttyS0 quiet panic=-1 qbmc.cmd=${cmd}`,
    ]);
    await waitForPower(rig.machine, 'Off', 120_000);
    expect(await status(rig)).toBe('shutdown');
    await rig.machine.reset('On');
    expect(await status(rig)).toBe('running');
    expect(rig.machine.powerState()).toBe('On');
  });

  it('reports Off and refuses power actions while QEMU is unreachable, then picks QEMU up when it appears', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agent-attach-'));
    const later = join(dir, 'later.sock');
    const machine = await attachTo(later, dir);
    let qemu: QemuInstance | null = null;
    try {
      expect(machine.powerState()).toBe('Off');
      await expect(machine.reset('On')).rejects.toMatchObject({ code: 'unavailable' });
      // QEMU appears at the attach path (its second monitor): the bounded-backoff reconnect finds it.
      qemu = await startQemu({
        machine: 'q35',
        memoryMiB: 128,
        serial: 'none',
        args: ['-qmp', `unix:${later},server=on,wait=off`],
      });
      await waitForPower(machine, 'On', 20_000);
      await machine.reset('ForceOff');
      expect(machine.powerState()).toBe('Off');
      // QEMU goes away: Off, and the machine says why it cannot power on.
      await qemu.stop();
      await waitForPower(machine, 'Off', 10_000);
      await expect(machine.reset('On')).rejects.toMatchObject({ code: 'unavailable' });
    } finally {
      await machine.close();
      await qemu?.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
