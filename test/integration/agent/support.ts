// Shared set-up for the agent's integration tests: a temp STATE_DIR, a parsed config, a real store and machine.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBmcStore, STATE_FILE_NAME } from '../../../bmc-agent/src/bmc/store.ts';
import { type AgentConfig, parseConfig } from '../../../bmc-agent/src/config.ts';
import { silentLogger } from '../../../bmc-agent/src/log.ts';
import { type AgentMachine, createMachine } from '../../../bmc-agent/src/machine/create.ts';
import type { Machine, PowerState } from '../../../bmc-agent/src/machine/types.ts';
import { freePorts } from '../../support/ports.ts';
import { requireCommand } from '../../support/require.ts';

export interface AgentRig {
  dir: string;
  /** The test-only QMP monitor of the agent's QEMU. */
  inspectSocket: string;
  config: AgentConfig;
  store: FileBmcStore;
  machine: AgentMachine;
  cleanup(): Promise<void>;
}

export async function agentRig(env: Record<string, string> = {}): Promise<AgentRig> {
  requireCommand('qemu-system-x86_64', 'bash test/env/apt.sh');
  const dir = await mkdtemp(join(tmpdir(), 'agent-it-'));
  const [vnc, serial] = await freePorts(2);
  const config = parseConfig(
    {
      QEMU_MODE: 'managed',
      STATE_DIR: dir,
      VM_DISK: '',
      VM_MEMORY: '128',
      VM_CPUS: '1',
      ENABLE_KVM: 'false',
      VNC_PORT: String(vnc),
      SERIAL_ADDR: `127.0.0.1:${serial}`,
      GRACEFUL_SHUTDOWN_TIMEOUT: '3',
      IPMI_PASS: 'test-password',
      BMC_ADDRESS: '127.0.0.1',
      ...env,
      // A second QMP monitor for tests to see what QEMU really does, independent of the agent's connection.
      QEMU_EXTRA_ARGS: `-qmp unix:${join(dir, 'inspect.sock')},server=on,wait=off ${env['QEMU_EXTRA_ARGS'] ?? ''}`,
    },
    { primaryIPv4: () => null },
  );
  const store = await FileBmcStore.open({
    path: join(dir, STATE_FILE_NAME),
    seed: {
      adminUser: config.ipmi.user,
      adminPassword: config.ipmi.password,
      address: config.bmcAddress,
      macAddress: '02:00:00:00:00:01',
      powerRestorePolicy: 'always-off',
      bootMode: config.vm.bootMode,
    },
  });
  const log = silentLogger();
  const machine = await createMachine({ config, store, log, uuid: '6a0f7c3e-1d2b-4c5d-8e9f-0a1b2c3d4e5f' });
  return {
    dir,
    inspectSocket: join(dir, 'inspect.sock'),
    config,
    store,
    machine,
    async cleanup() {
      if ('shutdown' in machine) await machine.shutdown(false, 5_000);
      else await machine.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves when the machine reports `state` (checked now and on every power event); rejects after timeoutMs. */
export function waitForPower(machine: Machine, state: PowerState, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (machine.powerState() === state) return resolve();
    const timer = setTimeout(() => {
      machine.off('power', onPower);
      reject(new Error(`power state stayed ${machine.powerState()}, wanted ${state} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onPower = (s: PowerState) => {
      if (s !== state) return;
      clearTimeout(timer);
      machine.off('power', onPower);
      resolve();
    };
    machine.on('power', onPower);
  });
}

export { processAlive } from '../../../bmc-agent/src/qemu/process.ts';
