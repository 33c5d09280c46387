// An agent for the Redfish integration suite: the real config parser, FileBmcStore, QEMU machine (TCG) and
// Redfish server, wired the way the composition root does, with the guest fixture as the VM's kernel.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { FileBmcStore, STATE_FILE_NAME } from '../../../bmc-agent/src/bmc/store.ts';
import { parseConfig } from '../../../bmc-agent/src/config.ts';
import { type AgentMachine, createMachine } from '../../../bmc-agent/src/machine/create.ts';
import { resolveVmUuid } from '../../../bmc-agent/src/qemu/identity.ts';
import { redfishConfigFromAgent } from '../../../bmc-agent/src/redfish/from-agent-config.ts';
import { type RedfishServer, startRedfishServer } from '../../../bmc-agent/src/redfish/server.ts';
import { guestFixture } from '../../support/guest.ts';
import { freePorts } from '../../support/ports.ts';
import { requireCommand } from '../../support/require.ts';

export interface TestAgent {
  url: string;
  /** host:port, as the docs' $BMC. */
  hostPort: string;
  port: number;
  stateDir: string;
  machine: AgentMachine;
  redfish: RedfishServer;
  logs(): string;
  stop(): Promise<void>;
}

/**
 * Starts an agent whose VM boots the guest fixture and runs `guestScript` (then powers itself off, unless
 * the script never ends). The VM starts Off.
 */
export async function startAgent(guestScript: string, extraEnv: Record<string, string> = {}): Promise<TestAgent> {
  requireCommand('qemu-system-x86_64');
  const fixture = guestFixture();
  const stateDir = mkdtempSync(join(tmpdir(), 'redfish-int-'));
  const [redfishPort, ipmiPort, vncPort, serialPort] = await freePorts(4);
  const append = ['console=ttyS0', 'quiet', 'panic=-1', `qbmc.cmd=${Buffer.from(guestScript).toString('base64')}`];
  const env = {
    QEMU_MODE: 'managed',
    STATE_DIR: stateDir,
    REDFISH_PORT: String(redfishPort),
    IPMI_PORT: String(ipmiPort),
    VNC_PORT: String(vncPort),
    SERIAL_ADDR: `127.0.0.1:${serialPort}`,
    BMC_ADDRESS: '127.0.0.1',
    IPMI_USER: 'admin',
    IPMI_PASS: 'password',
    ENABLE_KVM: 'false',
    VM_MEMORY: '256',
    VM_CPUS: '1',
    VM_DISK: '',
    QEMU_EXTRA_ARGS: `-kernel ${fixture.kernel} -initrd ${fixture.initrd} -append '${append.join(' ')}'`,
    ...extraEnv,
  };
  const config = parseConfig(env, { primaryIPv4: () => '127.0.0.1' });
  const lines: string[] = [];
  const log = pino(
    { level: 'debug' },
    {
      write: (line: string) => {
        if (lines.length < 5000) lines.push(line);
      },
    },
  );
  const uuid = await resolveVmUuid(stateDir, config.vmUuid);
  const store = await FileBmcStore.open({
    path: join(stateDir, STATE_FILE_NAME),
    seed: {
      adminUser: config.ipmi.user,
      adminPassword: config.ipmi.password,
      address: config.bmcAddress,
      macAddress: config.bmcMac ?? '02:00:00:00:00:01',
      powerRestorePolicy: 'always-off',
    },
  });
  const machine = await createMachine({ config, store, log, uuid });
  let redfish: RedfishServer;
  try {
    redfish = await startRedfishServer({
      config: { ...redfishConfigFromAgent(config, uuid), host: '127.0.0.1' },
      log,
      registry: new Registry(),
      machine,
      store,
    });
  } catch (err) {
    if ('shutdown' in machine) await machine.shutdown(false, 5_000);
    throw err;
  }
  return {
    url: `https://127.0.0.1:${redfish.port}`,
    hostPort: `127.0.0.1:${redfish.port}`,
    port: redfish.port,
    stateDir,
    machine,
    redfish,
    logs: () => lines.join(''),
    stop: async () => {
      await redfish.close();
      if ('shutdown' in machine) await machine.shutdown(false, 5_000);
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
