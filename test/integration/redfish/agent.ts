// An agent for the Redfish integration suite: the real composition root (bmc-agent/src/wiring.ts) with the
// real config parser, FileBmcStore, QEMU machine (TCG), Redfish, IPMI LAN and console; the VM boots the guest
// fixture, whose script decides what the guest does.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { AgentMachine } from '../../../bmc-agent/src/machine/create.ts';
import { startAgent as startAgentProcess } from '../../../bmc-agent/src/wiring.ts';
import { guestFixture } from '../../support/guest.ts';
import { freePorts } from '../../support/ports.ts';
import { requireCommand } from '../../support/require.ts';

export interface TestAgent {
  url: string;
  /** host:port, as the docs' $BMC. */
  hostPort: string;
  port: number;
  /** IPMI over LAN UDP port (same user store). */
  ipmiPort: number;
  stateDir: string;
  machine: AgentMachine;
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
    GRACEFUL_SHUTDOWN_TIMEOUT: '3',
    QEMU_EXTRA_ARGS: `-kernel ${fixture.kernel} -initrd ${fixture.initrd} -append '${append.join(' ')}'`,
    ...extraEnv,
  };
  const lines: string[] = [];
  const log = pino(
    { level: 'debug' },
    {
      write: (line: string) => {
        if (lines.length < 5000) lines.push(line);
      },
    },
  );
  let agent: Awaited<ReturnType<typeof startAgentProcess>>;
  try {
    agent = await startAgentProcess(env, { log });
  } catch (err) {
    rmSync(stateDir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `https://127.0.0.1:${agent.redfishPort}`,
    hostPort: `127.0.0.1:${agent.redfishPort}`,
    port: agent.redfishPort,
    ipmiPort: agent.ipmiPort,
    stateDir,
    machine: agent.machine,
    logs: () => lines.join(''),
    stop: async () => {
      await agent.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
