// A real agent for the console suites (SOL and the browser console): the composition root
// (bmc-agent/src/wiring.ts) in managed mode under TCG, its VM powered on at start and booting the guest fixture.
// The guest prints a ticking line on the VGA text console (so the VNC screen keeps changing) and, with
// `shell`, runs an interactive shell on ttyS0, which the agent wires to SERIAL_ADDR (SOL's serial port).
import { type GuestAgent, startGuestAgent } from '../../support/agent.ts';
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

export type ConsoleAgent = GuestAgent;

/** The VM is powered on at start and keeps running (qbmc.stay), printing VGA_TICKER's counter. */
export function startConsoleAgent(options: ConsoleAgentOptions = {}): Promise<ConsoleAgent> {
  return startGuestAgent({
    script: VGA_TICKER,
    kernelArgs: ['qbmc.stay=1', ...(options.shell ? ['qbmc.shell=1'] : [])],
    env: { IPMI_USER: ADMIN_USER, IPMI_PASS: ADMIN_PASSWORD, POWER_ON_AT_START: 'true', ...options.extraEnv },
    name: 'console-it',
    logLines: 20_000,
  });
}
