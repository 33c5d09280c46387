// A real agent for the console suites (SOL and the browser console): the composition root
// (bmc-agent/src/wiring.ts) in managed mode under TCG, its VM powered on at start and booting the guest fixture.
// The guest prints a ticking line on the VGA text console (so the VNC screen keeps changing) and, with
// `shell`, runs an interactive shell on ttyS0, which the agent wires to SERIAL_ADDR (SOL's serial port).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { AgentMachine } from '../../../bmc-agent/src/machine/create.ts';
import { startAgent } from '../../../bmc-agent/src/wiring.ts';
import { guestFixture } from '../../support/guest.ts';
import { freePorts } from '../../support/ports.ts';
import { requireCommand } from '../../support/require.ts';
import { ADMIN_PASSWORD, ADMIN_USER } from './clients.ts';

export { ADMIN_PASSWORD, ADMIN_USER } from './clients.ts';

/** The guest's script: a counter on the VGA console (tty0) every second, in the background, then init goes on. */
export const VGA_TICKER = [
  'i=0',
  '( while true; do echo "qemu-bmc console tick $i"; i=$((i+1)); sleep 1; done ) >/dev/tty0 2>&1 </dev/null &',
  'echo guest-ready',
].join('\n');

export interface ConsoleAgentOptions {
  /** Run a shell on ttyS0 after the script (for SOL). */
  shell?: boolean;
  extraEnv?: Record<string, string>;
}

export interface ConsoleAgent {
  /** https://127.0.0.1:<redfish port> */
  url: string;
  redfishPort: number;
  ipmiPort: number;
  vncPort: number;
  serialPort: number;
  machine: AgentMachine;
  logs(): string;
  stop(): Promise<void>;
}

export async function startConsoleAgent(options: ConsoleAgentOptions = {}): Promise<ConsoleAgent> {
  requireCommand('qemu-system-x86_64', 'bash test/env/apt.sh');
  const fixture = guestFixture();
  const stateDir = mkdtempSync(join(tmpdir(), 'console-it-'));
  const [redfishPort, ipmiPort, vncPort, serialPort] = await freePorts(4);
  if (redfishPort === undefined || ipmiPort === undefined || vncPort === undefined || serialPort === undefined)
    throw new Error('freePorts returned too few ports');
  const append = [
    'console=ttyS0',
    'quiet',
    'panic=-1',
    'qbmc.stay=1',
    ...(options.shell ? ['qbmc.shell=1'] : []),
    `qbmc.cmd=${Buffer.from(VGA_TICKER).toString('base64')}`,
  ];
  const env: Record<string, string> = {
    QEMU_MODE: 'managed',
    STATE_DIR: stateDir,
    REDFISH_PORT: String(redfishPort),
    IPMI_PORT: String(ipmiPort),
    VNC_PORT: String(vncPort),
    SERIAL_ADDR: `127.0.0.1:${serialPort}`,
    BMC_ADDRESS: '127.0.0.1',
    IPMI_USER: ADMIN_USER,
    IPMI_PASS: ADMIN_PASSWORD,
    ENABLE_KVM: 'false',
    VM_MEMORY: '256',
    VM_CPUS: '1',
    VM_DISK: '',
    POWER_ON_AT_START: 'true',
    GRACEFUL_SHUTDOWN_TIMEOUT: '3',
    QEMU_EXTRA_ARGS: `-kernel ${fixture.kernel} -initrd ${fixture.initrd} -append '${append.join(' ')}'`,
    ...options.extraEnv,
  };
  const lines: string[] = [];
  const log = pino(
    { level: 'debug' },
    {
      write: (line: string) => {
        if (lines.length < 20_000) lines.push(line);
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
    redfishPort: agent.redfishPort,
    ipmiPort: agent.ipmiPort,
    vncPort,
    serialPort,
    machine: agent.machine,
    logs: () => lines.join(''),
    stop: async () => {
      await agent.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
