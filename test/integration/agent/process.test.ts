// The agent as a process: what an operator or a container runtime sees.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePorts } from '../../support/ports.ts';
import { processAlive } from './support.ts';

const main = resolve(import.meta.dirname, '../../../bmc-agent/src/main.ts');
const demo = resolve(import.meta.dirname, '../../../bmc-agent/src/demo.ts');
const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startAgent(env: Record<string, string>, script = main): Started {
  const child = spawn(process.execPath, [script], { env: { PATH: process.env['PATH'] ?? '', ...env } });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  for (let waited = 0; waited < timeoutMs; waited += 100) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function agentEnv(extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const dir = await mkdtemp(join(tmpdir(), 'agent-proc-'));
  dirs.push(dir);
  const [redfish, vnc, serial] = await freePorts(3);
  const [ipmi] = await freePorts(1, 'udp');
  return {
    STATE_DIR: dir,
    QEMU_MODE: 'managed',
    VM_DISK: '',
    VM_MEMORY: '128',
    VM_CPUS: '1',
    ENABLE_KVM: 'false',
    REDFISH_PORT: String(redfish),
    IPMI_PORT: String(ipmi),
    VNC_PORT: String(vnc),
    SERIAL_ADDR: `127.0.0.1:${serial}`,
    IPMI_PASS: 'proc-test-pw',
    BMC_ADDRESS: '127.0.0.1',
    GRACEFUL_SHUTDOWN_TIMEOUT: '3',
    POWER_ON_AT_START: 'true',
    ...extra,
  };
}

/** GET /metrics over the agent's self-signed HTTPS (unauthenticated by design). */
function scrape(port: number): Promise<string> {
  return new Promise((resolveBody, reject) => {
    get({ host: '127.0.0.1', port, path: '/metrics', rejectUnauthorized: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolveBody(body));
    }).on('error', reject);
  });
}

async function qemuPid(dir: string): Promise<number | null> {
  try {
    return Number((await readFile(join(dir, 'qemu.pid'), 'utf8')).trim());
  } catch {
    return null;
  }
}

describe('bmc-agent process', () => {
  it('exits 2 with one line naming the bad variable', async () => {
    const a = startAgent({ VM_CPUS: 'x', STATE_DIR: '/nonexistent/never-created' });
    expect(await a.exited).toBe(2);
    expect(a.output()).toBe('bmc-agent: VM_CPUS: must be an integer 1..256, got "x"\n');
  });

  it('exits 2 naming a corrupt state file, which is kept aside', async () => {
    const env = await agentEnv();
    await writeFile(join(env['STATE_DIR']!, 'bmc-state.json'), '{"version":1,');
    const a = startAgent(env);
    expect(await a.exited).toBe(2);
    expect(a.output()).toMatch(/^bmc-agent: BMC state .*bmc-state\.json is unreadable .* kept as .*corrupt-/);
    expect(a.output().trim().split('\n')).toHaveLength(1);
  });

  it('powers on at start (POWER_ON_AT_START), and on SIGTERM shuts the VM down, saves state and exits 0', async () => {
    const env = await agentEnv();
    const a = startAgent(env);
    await waitFor(() => a.output().includes('"msg":"VM powered on"'), 'power on');
    const pid = (await qemuPid(env['STATE_DIR']!))!;
    expect(processAlive(pid)).toBe(true);
    const metrics = await scrape(Number(env['REDFISH_PORT']));
    expect(metrics).toContain('bmc_power_state{state="On"} 1');
    expect(metrics).toContain('bmc_power_actions_total');
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(processAlive(pid)).toBe(false);
    expect(a.output()).toContain('"msg":"agent stopped"');
    // The agent's own shutdown is not the VM's last state: 'always-on'/'previous' bring it back next start.
    const state = JSON.parse(await readFile(join(env['STATE_DIR']!, 'bmc-state.json'), 'utf8'));
    expect(state.lastPowerState).toBe('On');
    expect(state.powerRestorePolicy).toBe('always-on');
  });

  it('with VM_STOP_ON_EXIT=false, SIGTERM leaves the VM running and the next agent adopts it', async () => {
    const env = await agentEnv({ VM_STOP_ON_EXIT: 'false' });
    const first = startAgent(env);
    await waitFor(() => first.output().includes('"msg":"VM powered on"'), 'power on');
    const pid = (await qemuPid(env['STATE_DIR']!))!;
    first.child.kill('SIGTERM');
    expect(await first.exited, first.output()).toBe(0);
    expect(processAlive(pid)).toBe(true);
    const second = startAgent({ ...env, VM_STOP_ON_EXIT: 'true' });
    await waitFor(() => second.output().includes('adopted the running QEMU'), 'adoption');
    expect(await qemuPid(env['STATE_DIR']!)).toBe(pid);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(processAlive(pid)).toBe(false);
  });

  it('after SIGKILL the next agent adopts the running VM instead of restarting it', async () => {
    const env = await agentEnv();
    const first = startAgent(env);
    await waitFor(() => first.output().includes('"msg":"VM powered on"'), 'power on');
    const pid = (await qemuPid(env['STATE_DIR']!))!;
    first.child.kill('SIGKILL');
    await first.exited;
    expect(processAlive(pid)).toBe(true);
    const second = startAgent(env);
    await waitFor(() => second.output().includes('adopted the running QEMU'), 'adoption');
    expect(second.output()).not.toContain('power restore: powering on');
    expect(await qemuPid(env['STATE_DIR']!)).toBe(pid);
    second.child.kill('SIGTERM');
    const code = await second.exited;
    expect(code, second.output()).toBe(0);
    expect(processAlive(pid)).toBe(false);
  });

  it('demo (npm start) creates its disk and password, prints commands that work, and stops on SIGINT', async () => {
    const env = await agentEnv();
    for (const k of ['QEMU_MODE', 'VM_DISK', 'IPMI_PASS', 'POWER_ON_AT_START']) delete env[k];
    const d = startAgent(env, demo);
    await waitFor(() => d.output().includes('ipmitool'), 'the demo banner');
    const password = (await readFile(join(env['STATE_DIR']!, 'demo-password'), 'utf8')).trim();
    expect(password).toMatch(/^[A-Za-z0-9_-]{15}$/);
    expect(d.output()).toContain(`password:  ${password}`);
    expect(statSync(join(env['STATE_DIR']!, 'disk.qcow2')).size).toBeGreaterThan(0);
    const curl = d
      .output()
      .split('\n')
      .find((l) => l.trim().startsWith('curl -k -u') && l.endsWith('/redfish/v1/Systems/1'))!
      .trim();
    const system = JSON.parse(execFileSync('bash', ['-c', `${curl} -s`], { encoding: 'utf8' }));
    expect(system.PowerState).toBe('Off');
    d.child.kill('SIGINT');
    expect(await d.exited).toBe(0);
  });
});
