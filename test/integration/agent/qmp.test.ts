// The QMP client and typed commands against a real QEMU (TCG, no guest OS needed).
import { afterAll, describe, expect, it } from 'vitest';
import { QmpClient, QmpError, type QmpEvent } from '../../../bmc-agent/src/qmp/client.ts';
import {
  cont,
  eject,
  queryBlock,
  queryStatus,
  quit,
  stop,
  systemPowerdown,
  systemReset,
} from '../../../bmc-agent/src/qmp/commands.ts';
import { startQemu, stopAllQemu } from '../../support/qemu.ts';

afterAll(stopAllQemu);

/** Resolves with the first event named `name` (bounded). */
function nextEvent(qmp: QmpClient, name: string, timeoutMs = 10_000): Promise<QmpEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${name} event`)), timeoutMs);
    const on = (e: QmpEvent) => {
      if (e.event !== name) return;
      clearTimeout(timer);
      qmp.off('event', on);
      resolve(e);
    };
    qmp.on('event', on);
  });
}

describe('QMP against real QEMU', () => {
  it('negotiates, runs typed commands, receives events, reports QEMU errors, and sees quit', async () => {
    const qemu = await startQemu({
      machine: 'q35',
      memoryMiB: 128,
      serial: 'none',
      args: [
        '-drive',
        'if=none,id=ide2-cd0,media=cdrom,readonly=on',
        '-device',
        'ide-cd,id=cd0,drive=ide2-cd0,bus=ide.2',
      ],
    });
    const qmp = new QmpClient({ target: { path: qemu.qmpPath } });
    await qmp.connectWithRetry(20);
    expect(qmp.version?.major).toBeGreaterThanOrEqual(7);
    expect(await queryStatus(qmp)).toMatchObject({ running: true, status: 'running' });

    const stopped = nextEvent(qmp, 'STOP');
    await stop(qmp);
    await stopped;
    expect((await queryStatus(qmp)).status).toBe('paused');
    const resumed = nextEvent(qmp, 'RESUME');
    await cont(qmp);
    await resumed;

    const reset = nextEvent(qmp, 'RESET');
    await systemReset(qmp);
    expect((await reset).data).toMatchObject({ guest: false });
    const powerdown = nextEvent(qmp, 'POWERDOWN');
    await systemPowerdown(qmp);
    await powerdown;

    const cd = (await queryBlock(qmp)).find((b) => b.device === 'ide2-cd0');
    expect(cd).toMatchObject({ removable: true });
    expect(cd?.inserted).toBeUndefined();
    await eject(qmp, 'cd0').catch(() => undefined); // empty drive: either fine or a QMP error, never a hang

    const err = await qmp.execute('no-such-command').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QmpError);
    expect((err as QmpError).errorClass).toBe('CommandNotFound');

    const disconnected = new Promise<void>((resolve) => qmp.once('disconnected', () => resolve()));
    await quit(qmp).catch(() => undefined);
    await disconnected;
    expect(qmp.connected).toBe(false);
    expect((await qemu.waitForExit(10_000)).code).toBe(0);
    qmp.close();
  });
});
