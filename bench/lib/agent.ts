// Starts a bmc-agent (ours at HEAD, or another checkout) in managed mode with the VM off: no QEMU process runs,
// Redfish and IPMI LAN answer from the BMC state alone. Temp STATE_DIR, free loopback ports, a known password.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, freePorts } from '../../test/support/ports.ts';
import { fetchOnce } from './http-load.ts';
import { type Child, launch, NODE_BIN, waitFor } from './proc.ts';

export const AGENT_USER = 'admin';
export const AGENT_PASS = 'bench-Passw0rd';

export interface RunningAgent {
  proc: Child;
  redfishUrl: string;
  ipmiPort: number;
  stateDir: string;
  /** Milliseconds from spawn to the first 200 on GET /redfish/v1 (polled every 5 ms). */
  firstOkMs: number;
  stop(): Promise<void>;
}

/** `root` is a checkout whose bmc-agent/src/main.ts is run; logs go to `logDir`. */
export async function startAgent(
  root: string,
  logDir: string,
  label: string,
  opts: { stateDir?: string; keepState?: boolean; entry?: string } = {},
): Promise<RunningAgent> {
  const stateDir = opts.stateDir ?? mkdtempSync(join(tmpdir(), `qemu-bmc-bench-state-${label}-`));
  const removeState = (): void => {
    if (!opts.keepState) rmSync(stateDir, { recursive: true, force: true });
  };
  const [redfishPort, serialPort] = await freePorts(2);
  const ipmiPort = await freePort('udp');
  let vncPort = await freePort();
  while (vncPort < 5900) vncPort = await freePort();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? '/root',
    QEMU_MODE: 'managed',
    STATE_DIR: stateDir,
    REDFISH_PORT: String(redfishPort),
    IPMI_PORT: String(ipmiPort),
    IPMI_USER: AGENT_USER,
    IPMI_PASS: AGENT_PASS,
    ENABLE_KVM: 'false',
    VM_DISK: '',
    SERIAL_ADDR: `127.0.0.1:${serialPort}`,
    VNC_PORT: String(vncPort),
    BMC_ADDRESS: '127.0.0.1',
    POWER_ON_AT_START: 'false',
    LOG_LEVEL: 'info',
  };
  // BENCH_AGENT_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles every agent the bench starts.
  const nodeArgs = (process.env['BENCH_AGENT_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  const proc = launch(NODE_BIN, [...nodeArgs, opts.entry ?? join(root, 'bmc-agent/src/main.ts')], {
    env,
    cwd: root,
    logPath: join(logDir, `agent-${label}.log`),
  });
  const redfishUrl = `https://127.0.0.1:${redfishPort}`;
  let firstOkMs: number;
  try {
    firstOkMs = await waitFor(
      `agent ${label} service root`,
      async () => {
        if (proc.exited()) throw new Error(`agent ${label} exited: ${proc.log().slice(-2000)}`);
        const r = await fetchOnce(`${redfishUrl}/redfish/v1`).catch(() => undefined);
        if (r?.status !== 200) return undefined;
        return Number(process.hrtime.bigint() - proc.startedAt) / 1e6;
      },
      60_000,
      5,
    );
  } catch (err) {
    await proc.stop();
    removeState();
    throw err;
  }
  return {
    proc,
    redfishUrl,
    ipmiPort,
    stateDir,
    firstOkMs,
    stop: async () => {
      await proc.stop();
      removeState();
    },
  };
}

/** Logs in through the SessionService; returns the X-Auth-Token. */
export async function redfishSession(baseUrl: string, user: string, password: string): Promise<string> {
  const r = await fetchOnce(`${baseUrl}/redfish/v1/SessionService/Sessions`, {
    method: 'POST',
    body: JSON.stringify({ UserName: user, Password: password }),
  });
  const token = r.headers['x-auth-token'];
  if (r.status !== 201 || typeof token !== 'string') throw new Error(`session login: HTTP ${r.status} ${r.body}`);
  return token;
}

export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}
