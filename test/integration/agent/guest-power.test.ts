import { afterEach, describe, expect, it } from 'vitest';
import type { ManagedMachine } from '../../../bmc-agent/src/machine/managed-machine.ts';
import { guestFixture } from '../../support/guest.ts';
import { type AgentRig, agentRig, waitForPower } from './support.ts';

let rig: AgentRig | null = null;
afterEach(async () => {
  await rig?.cleanup();
  rig = null;
});

/** QEMU_EXTRA_ARGS that boot the guest fixture straight into a script (then its init powers off unless stay=1). */
function guestArgs(script: string, extra = ''): string {
  const fixture = guestFixture();
  const cmd = Buffer.from(script).toString('base64');
  return `-kernel ${fixture.kernel} -initrd ${fixture.initrd} -append 'console=ttyS0 quiet panic=-1 qbmc.cmd=${cmd} ${extra}'`;
}

describe('guest-driven power', () => {
  it('shows Off when the guest powers itself off, records it, and can be powered on again', async () => {
    rig = await agentRig({ QEMU_EXTRA_ARGS: guestArgs('echo hello') });
    const m = rig.machine as ManagedMachine;
    await m.reset('On');
    expect(m.powerState()).toBe('On');
    await waitForPower(m, 'Off', 120_000);
    expect(m.pid).toBeNull();
    await rig.store.update(() => {});
    expect(rig.store.state().lastPowerState).toBe('Off');
    await m.reset('On');
    expect(m.powerState()).toBe('On');
  });

  it('GracefulShutdown of a running Linux guest that ignores the ACPI button ends in Off after the timeout', async () => {
    // The fixture loads no ACPI button driver and runs no acpid, so the power button event is ignored:
    // the force-off after GRACEFUL_SHUTDOWN_TIMEOUT is what ends it.
    rig = await agentRig({ QEMU_EXTRA_ARGS: guestArgs('echo up', 'qbmc.stay=1'), GRACEFUL_SHUTDOWN_TIMEOUT: '3' });
    const m = rig.machine as ManagedMachine;
    await m.reset('On');
    await m.reset('GracefulShutdown');
    expect(m.powerState()).toBe('PoweringOff');
    await waitForPower(m, 'Off', 30_000);
  });
});
