// A real agent for integration tests: the composition root (bmc-agent/src/wiring.ts) in managed mode under TCG,
// with the real config parser, FileBmcStore, QEMU machine, Redfish, IPMI LAN, SOL and console, on free loopback
// ports and a temp STATE_DIR. Its VM boots the guest fixture, whose script decides what the guest does.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { AgentMachine } from '../../bmc-agent/src/machine/create.ts';
import { startAgent } from '../../bmc-agent/src/wiring.ts';
import { guestFixture } from './guest.ts';
import { freePorts } from './ports.ts';
import { requireCommand } from './require.ts';

export interface GuestAgentOptions {
  /** Shell script the guest's init runs (busybox sh, ipmitool on PATH). */
  script: string;
  /** Extra guest kernel arguments, e.g. qbmc.stay=1 or qbmc.shell=1. */
  kernelArgs?: string[];
  /** Environment on top of the defaults below (wins over them). */
  env?: Record<string, string>;
  /** Prefix of the temp STATE_DIR, to tell suites apart in /tmp. */
  name?: string;
  /** How many log lines to keep for logs(). */
  logLines?: number;
}

export interface GuestAgent {
  /** https://127.0.0.1:<redfish port> */
  url: string;
  /** 127.0.0.1:<redfish port>, as the docs' $BMC. */
  hostPort: string;
  redfishPort: number;
  ipmiPort: number;
  vncPort: number;
  serialPort: number;
  stateDir: string;
  machine: AgentMachine;
  logs(): string;
  stop(): Promise<void>;
}

export const TEST_ADMIN = { user: 'admin', password: 'password' } as const;

export async function startGuestAgent(options: GuestAgentOptions): Promise<GuestAgent> {
  requireCommand('qemu-system-x86_64', 'bash test/env/apt.sh');
  const fixture = guestFixture();
  const stateDir = mkdtempSync(join(tmpdir(), `${options.name ?? 'agent-it'}-`));
  const [redfishPort, ipmiPort, vncPort, serialPort] = await freePorts(4);
  if (redfishPort === undefined || ipmiPort === undefined || vncPort === undefined || serialPort === undefined)
    throw new Error('freePorts returned too few ports');
  const append = [
    'console=ttyS0',
    'quiet',
    'panic=-1',
    ...(options.kernelArgs ?? []),
    `qbmc.cmd=${Buffer.from(options.script).toString('base64')}`,
  ];
  const env: Record<string, string> = {
    QEMU_MODE: 'managed',
    STATE_DIR: stateDir,
    REDFISH_PORT: String(redfishPort),
    IPMI_PORT: String(ipmiPort),
    VNC_PORT: String(vncPort),
    SERIAL_ADDR: `127.0.0.1:${serialPort}`,
    BMC_ADDRESS: '127.0.0.1',
    IPMI_USER: TEST_ADMIN.user,
    IPMI_PASS: TEST_ADMIN.password,
    ENABLE_KVM: 'false',
    VM_MEMORY: '256',
    VM_CPUS: '1',
    VM_DISK: '',
    GRACEFUL_SHUTDOWN_TIMEOUT: '3',
    QEMU_EXTRA_ARGS: `-kernel ${fixture.kernel} -initrd ${fixture.initrd} -append '${append.join(' ')}'`,
    ...options.env,
  };
  const lines: string[] = [];
  const limit = options.logLines ?? 5000;
  const log = pino(
    { level: 'debug' },
    {
      write: (line: string) => {
        if (lines.length < limit) lines.push(line);
      },
    },
  );
  let agent: Awaited<ReturnType<typeof startAgent>>;
  try {
    agent = await startAgent(env, { log });
  } catch (err) {
    rmSync(stateDir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `https://127.0.0.1:${agent.redfishPort}`,
    hostPort: `127.0.0.1:${agent.redfishPort}`,
    redfishPort: agent.redfishPort,
    ipmiPort: agent.ipmiPort,
    vncPort,
    serialPort,
    stateDir,
    machine: agent.machine,
    logs: () => lines.join(''),
    stop: async () => {
      await agent.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
