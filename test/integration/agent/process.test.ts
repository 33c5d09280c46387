// The agent as a process: what an operator or a container runtime sees.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { get, request } from 'node:https';
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

/** GET over the agent's self-signed HTTPS, with Basic credentials `auth` (user:password) when given. */
function httpsGet(port: number, path: string, auth?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolveBody, reject) => {
    get({ host: '127.0.0.1', port, path, rejectUnauthorized: false, ...(auth ? { auth } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolveBody({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

/** A WebSocket upgrade of /websockify with credentials: the HTTP status the agent answers (101 = accepted). */
function upgradeStatus(port: number, auth: string): Promise<number> {
  return new Promise((resolveStatus, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path: '/websockify',
      auth,
      rejectUnauthorized: false,
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': Buffer.from('qemu-bmc-test-key').toString('base64'),
        Origin: `https://127.0.0.1:${port}`,
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolveStatus(res.statusCode ?? 0);
    });
    req.on('response', (res) => {
      res.resume();
      resolveStatus(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

const ADMIN = 'admin:proc-test-pw';

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
    const port = Number(env['REDFISH_PORT']);
    // /metrics needs the same credentials as Redfish.
    expect((await httpsGet(port, '/metrics')).status).toBe(401);
    expect((await httpsGet(port, '/metrics', 'admin:wrong')).status).toBe(401);
    const metrics = await httpsGet(port, '/metrics', ADMIN);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('bmc_power_state{state="On"} 1');
    expect(metrics.body).toContain('bmc_power_actions_total');
    // The console is on by default.
    expect((await httpsGet(port, '/novnc/console.js', ADMIN)).status).toBe(200);
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(processAlive(pid)).toBe(false);
    expect(a.output()).toContain('"msg":"agent stopped"');
    // The agent's own shutdown is not the VM's last state: 'always-on'/'previous' bring it back next start.
    const state = JSON.parse(await readFile(join(env['STATE_DIR']!, 'bmc-state.json'), 'utf8'));
    expect(state.lastPowerState).toBe('On');
    expect(state.powerRestorePolicy).toBe('always-on');
  });

  it('POWER_RESTORE_POLICY is applied at every start; POWER_ON_AT_START powers on a fresh state once', async () => {
    const env = await agentEnv({ POWER_RESTORE_POLICY: 'AlwaysOff' });
    const statePath = join(env['STATE_DIR']!, 'bmc-state.json');
    // Fresh state + POWER_ON_AT_START=true: on, although the policy is AlwaysOff.
    const first = startAgent(env);
    await waitFor(() => first.output().includes('"msg":"VM powered on"'), 'power on');
    first.child.kill('SIGTERM');
    expect(await first.exited, first.output()).toBe(0);
    expect(JSON.parse(await readFile(statePath, 'utf8'))).toMatchObject({
      powerRestorePolicy: 'always-off',
      lastPowerState: 'On',
    });
    // Someone changed the stored policy (as `ipmitool chassis policy always-on` would): the next start puts the
    // configured one back and, AlwaysOff, leaves the VM off.
    const stored = JSON.parse(await readFile(statePath, 'utf8'));
    await writeFile(statePath, JSON.stringify({ ...stored, powerRestorePolicy: 'always-on' }));
    const second = startAgent(env);
    await waitFor(() => second.output().includes('"msg":"agent started"'), 'start');
    expect(second.output()).toContain('power restore policy from POWER_RESTORE_POLICY');
    expect(second.output()).not.toContain('power restore: powering on');
    expect(await qemuPid(env['STATE_DIR']!)).toBeNull();
    expect(JSON.parse(await readFile(statePath, 'utf8')).powerRestorePolicy).toBe('always-off');
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    // AlwaysOn: powers on at the next start although the VM was off.
    const third = startAgent({ ...env, POWER_RESTORE_POLICY: 'AlwaysOn' });
    await waitFor(() => third.output().includes('"msg":"VM powered on"'), 'power on by AlwaysOn');
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
  });

  it('CONSOLE_ENABLED=false: no /novnc pages and no WebSocket upgrade; Redfish still answers', async () => {
    const env = await agentEnv({ CONSOLE_ENABLED: 'false', POWER_ON_AT_START: 'false' });
    const a = startAgent(env);
    await waitFor(() => a.output().includes('"msg":"agent started"'), 'start');
    const port = Number(env['REDFISH_PORT']);
    expect((await httpsGet(port, '/redfish/v1/Systems/1', ADMIN)).status).toBe(200);
    expect((await httpsGet(port, '/novnc/', ADMIN)).status).toBe(404);
    expect((await httpsGet(port, '/novnc/vnc.html', ADMIN)).status).toBe(404);
    expect((await httpsGet(port, '/novnc/console.js', ADMIN)).status).toBe(404);
    expect(await upgradeStatus(port, ADMIN)).toBe(404);
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    // The same agent with the console on accepts the upgrade's credentials (the VM is off: the proxy then
    // answers, but not with 404).
    const b = startAgent({ ...env, CONSOLE_ENABLED: 'true' });
    await waitFor(() => b.output().includes('"msg":"agent started"'), 'start');
    expect((await httpsGet(port, '/novnc/console.js', ADMIN)).status).toBe(200);
    expect(await upgradeStatus(port, ADMIN)).not.toBe(404);
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  });

  it('VM_ACCELERATOR=kvm uses KVM or exits 2 with one line; it never falls back to TCG', async () => {
    const env = await agentEnv({ VM_ACCELERATOR: 'kvm', POWER_ON_AT_START: 'false' });
    delete env['ENABLE_KVM'];
    const a = startAgent(env);
    await waitFor(
      () => a.output().includes('"msg":"agent started"') || a.child.exitCode !== null,
      'start or exit',
      60_000,
    );
    if (a.output().includes('"msg":"agent started"')) {
      // This host's KVM works: the agent says so and uses it.
      expect(a.output()).toMatch(/"accelerator":"kvm","reason":"KVM guest reached its boot attempt/);
      a.child.kill('SIGTERM');
      expect(await a.exited).toBe(0);
    } else {
      expect(await a.exited).toBe(2);
      const lines = a
        .output()
        .split('\n')
        .filter((l) => l.startsWith('bmc-agent:'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^bmc-agent: VM_ACCELERATOR: is kvm but KVM does not work here \(.+\)$/);
      expect(a.output()).not.toContain('"accelerator":"tcg"');
    }
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
