import { afterEach, describe, expect, it } from 'vitest';
import { ManagedMachine } from '../../../bmc-agent/src/machine/managed-machine.ts';
import { QmpClient } from '../../../bmc-agent/src/qmp/client.ts';
import { qomGet, queryStatus } from '../../../bmc-agent/src/qmp/commands.ts';
import { type AgentRig, agentRig, processAlive, waitForPower } from './support.ts';

let rig: AgentRig | null = null;
afterEach(async () => {
  await rig?.cleanup();
  rig = null;
});

function managed(r: AgentRig): ManagedMachine {
  if (!(r.machine instanceof ManagedMachine)) throw new Error('expected managed mode');
  return r.machine;
}

/** A second, independent QMP connection to the agent's QEMU: what the VM really is, not what the agent believes. */
async function inspect<T>(r: AgentRig, fn: (qmp: QmpClient) => Promise<T>): Promise<T> {
  const qmp = new QmpClient({ target: { path: r.inspectSocket } });
  await qmp.connectWithRetry(20);
  try {
    return await fn(qmp);
  } finally {
    qmp.close();
  }
}

describe('managed mode power', () => {
  it('starts Off with no QEMU, powers on (running VM), ForceRestart keeps the PID, PowerCycle changes it, ForceOff ends it', async () => {
    rig = await agentRig();
    const m = managed(rig);
    expect(m.powerState()).toBe('Off');
    expect(m.pid).toBeNull();
    expect(m.info.accelerator).toBe('tcg');

    await m.reset('On');
    expect(m.powerState()).toBe('On');
    const pid = m.pid!;
    expect(processAlive(pid)).toBe(true);
    expect((await inspect(rig, queryStatus)).status).toBe('running');
    expect(m.restartCause()).toBe('chassis-control');
    await rig.store.update(() => {});
    expect(rig.store.state().lastPowerState).toBe('On');

    const resets: string[] = [];
    await inspect(rig, async (qmp) => {
      qmp.on('event', (e) => resets.push(e.event));
      await m.reset('ForceRestart');
      // The RESET event reaches every QMP monitor; bounded wait for it.
      for (let i = 0; i < 50 && !resets.includes('RESET'); i++) await new Promise((r) => setTimeout(r, 100));
    });
    expect(resets).toContain('RESET');
    expect(m.pid).toBe(pid);

    await m.reset('PowerCycle');
    expect(m.powerState()).toBe('On');
    expect(m.pid).not.toBe(pid);
    expect(processAlive(pid)).toBe(false);
    const second = m.pid!;

    await m.reset('Nmi');
    await m.reset('ForceOff');
    expect(m.powerState()).toBe('Off');
    expect(m.pid).toBeNull();
    expect(processAlive(second)).toBe(false);
    await rig.store.update(() => {}); // updates are serialized: this waits for the power state record
    expect(rig.store.state().lastPowerState).toBe('Off');
  });

  it('treats a killed QEMU as Off and powers on again', async () => {
    rig = await agentRig();
    const m = managed(rig);
    await m.reset('On');
    const pid = m.pid!;
    const off = waitForPower(m, 'Off', 10_000);
    process.kill(pid, 'SIGKILL');
    await off;
    expect(m.pid).toBeNull();
    await m.reset('On');
    expect(m.powerState()).toBe('On');
    expect(m.pid).not.toBe(pid);
  });

  it('GracefulShutdown falls back to power off when the guest ignores ACPI (no OS here), after the timeout', async () => {
    rig = await agentRig({ GRACEFUL_SHUTDOWN_TIMEOUT: '2' });
    const m = managed(rig);
    await m.reset('On');
    await m.reset('GracefulShutdown');
    expect(m.powerState()).toBe('PoweringOff');
    await waitForPower(m, 'Off', 15_000);
    expect(m.pid).toBeNull();
  });

  it('GracefulRestart resets the VM in place (same PID) when the guest ignores ACPI, after the timeout', async () => {
    rig = await agentRig({ GRACEFUL_SHUTDOWN_TIMEOUT: '2' });
    const m = managed(rig);
    await m.reset('On');
    const pid = m.pid;
    await inspect(rig, async (qmp) => {
      const events: string[] = [];
      qmp.on('event', (e) => events.push(e.event));
      await m.reset('GracefulRestart');
      expect(m.powerState()).toBe('PoweringOff');
      await waitForPower(m, 'On', 15_000);
      for (let i = 0; i < 50 && !events.includes('RESET'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(events).toEqual(expect.arrayContaining(['POWERDOWN', 'RESET']));
    });
    expect(m.pid).toBe(pid);
  });

  it('PushPowerButton powers on when off; On when already on changes nothing; ops needing power are refused when off', async () => {
    rig = await agentRig();
    const m = managed(rig);
    await expect(m.reset('ForceRestart')).rejects.toMatchObject({ code: 'conflict' });
    await expect(m.reset('Nmi')).rejects.toMatchObject({ code: 'conflict' });
    await m.reset('PushPowerButton');
    expect(m.powerState()).toBe('On');
    expect(m.restartCause()).toBe('power-button');
    const pid = m.pid;
    await m.reset('On');
    expect(m.pid).toBe(pid);
    await expect(m.reset('Bogus' as never)).rejects.toMatchObject({ code: 'invalid' });
  });

  it('applies a Once boot override at the next power on and clears it; Continuous stays', async () => {
    rig = await agentRig();
    const m = managed(rig);
    const boots: string[] = [];
    m.on('boot', (o) => boots.push(`${o.target}/${o.enabled}`));
    await m.setBootOverride({ target: 'Cd', enabled: 'Once' });
    expect(rig.store.state().boot).toMatchObject({ target: 'Cd', enabled: 'Once' });
    await m.reset('On');
    // Used by this boot, then reverted in QEMU for later resets, and cleared in the store.
    expect(m.bootOverride()).toMatchObject({ target: 'None', enabled: 'Disabled' });
    expect(rig.store.state().boot.enabled).toBe('Disabled');
    expect(boots).toEqual(['Cd/Once', 'None/Disabled']);
    expect(await inspect(rig, (q) => qomGet<number>(q, '/machine/peripheral/cd0', 'bootindex'))).toBe(20);

    await m.setBootOverride({ target: 'Cd', enabled: 'Continuous' });
    // Applied live to the running VM for its next reset.
    expect(await inspect(rig, (q) => qomGet<number>(q, '/machine/peripheral/cd0', 'bootindex'))).toBe(1);
    await m.reset('PowerCycle');
    expect(m.bootOverride()).toMatchObject({ target: 'Cd', enabled: 'Continuous' });
    expect(await inspect(rig, (q) => qomGet<number>(q, '/machine/peripheral/cd0', 'bootindex'))).toBe(1);
    await expect(m.setBootOverride({ target: 'Floppy' as never })).rejects.toMatchObject({ code: 'invalid' });
  });

  it('a Once override for a device the VM lacks (Pxe without NICs) still powers on and is consumed', async () => {
    rig = await agentRig();
    const m = managed(rig);
    await m.setBootOverride({ target: 'Pxe', enabled: 'Once' });
    await m.reset('On');
    expect(m.powerState()).toBe('On');
    expect(m.bootOverride()).toMatchObject({ target: 'None', enabled: 'Disabled' });
    await m.reset('PowerCycle');
    expect(m.powerState()).toBe('On');
  });

  it('a Once override set while on is used by the next reset (same PID) and then cleared', async () => {
    rig = await agentRig();
    const m = managed(rig);
    await m.reset('On');
    await m.setBootOverride({ target: 'Cd', enabled: 'Once' });
    expect(await inspect(rig, (q) => qomGet<number>(q, '/machine/peripheral/cd0', 'bootindex'))).toBe(1);
    const cleared = new Promise<void>((resolve) =>
      m.on('boot', (o) => {
        if (o.enabled === 'Disabled') resolve();
      }),
    );
    await m.reset('ForceRestart');
    await cleared;
    expect(rig.store.state().boot.enabled).toBe('Disabled');
    expect(await inspect(rig, (q) => qomGet<number>(q, '/machine/peripheral/cd0', 'bootindex'))).toBe(20);
  });
});
