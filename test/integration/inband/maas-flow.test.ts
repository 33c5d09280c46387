// MAAS's view of a qemu-bmc VM, end to end, with the agent as a real process (`node bmc-agent/src/main.ts`, managed
// mode, TCG): the VM boots the guest fixture with QEMU's ipmi-bmc-extern + isa-ipmi-kcs connected to VM_IPMI_ADDR,
// and its script (maas-flow.guest.sh) does in-band what a commissioning MAAS does. From outside: ipmitool lanplus,
// freeipmi's ipmipower/ipmi-chassis-config as MAAS's power driver calls them, and Redfish through curl.
//
// The guest's console is a second serial port (ttyS1) written to a file, because the agent itself holds the first
// one (SERIAL_ADDR, for SOL). The test steers the guest through the BMC: it sets LAN parameter 16 (SNMP community,
// volatile) over RMCP+ and the guest polls it in-band; see the guest script's header.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processAlive } from '../../../bmc-agent/src/qemu/process.ts';
import { guestFixture } from '../../support/guest.ts';
import { freePorts } from '../../support/ports.ts';
import { requireCommand } from '../../support/require.ts';

const main = resolve(import.meta.dirname, '../../../bmc-agent/src/main.ts');
const guestScript = resolve(import.meta.dirname, 'maas-flow.guest.sh');
const resultsDir = resolve(import.meta.dirname, '../../../test-results');

const ADVERTISED = '10.96.0.42';
const ADMIN = { user: 'admin', password: 'admin-pw-7' };
const SETUP_PASSWORD = 'maas-setup-pw1';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((done) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` every 250 ms until it returns a value; throws naming `what` after timeoutMs. */
async function waitFor<T>(what: string, timeoutMs: number, check: () => T | undefined | Promise<T | undefined>) {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 100_000; i++) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) break;
    await sleep(250);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

function ours(pid: number): boolean {
  try {
    return processAlive(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir);
  } catch {
    return false;
  }
}

let dir: string;
let serialLog: string;
let env: Record<string, string>;
let ipmiPort: number;
let redfishPort: number;
let agent: { child: ChildProcess; output: () => string; exited: Promise<number | null> } | undefined;
const qemuPids = new Set<number>();

function startAgent(overrides: Record<string, string> = {}) {
  const child = spawn(process.execPath, [main], { env: { PATH: process.env['PATH'] ?? '', ...env, ...overrides } });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  agent = { child, output: () => out, exited };
  return agent;
}

function qemuPid(): number | undefined {
  try {
    const pid = Number(readFileSync(join(dir, 'qemu.pid'), 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    qemuPids.add(pid);
    return pid;
  } catch {
    return undefined;
  }
}

function serial(): string {
  try {
    return readFileSync(serialLog, 'utf8').replace(/\r\n/g, '\n');
  } catch {
    return '';
  }
}

/** The first match of `pattern` in the guest's console after character `from`. */
function serialMatch(pattern: RegExp, from = 0): RegExpExecArray | undefined {
  return new RegExp(pattern.source, pattern.flags.replace('g', '')).exec(serial().slice(from)) ?? undefined;
}

async function waitSerial(what: string, pattern: RegExp, from: number, timeoutMs: number): Promise<RegExpExecArray> {
  try {
    return await waitFor(what, timeoutMs, () => serialMatch(pattern, from));
  } catch (err) {
    throw new Error(
      `${(err as Error).message}\n--- guest console (tail) ---\n${serial().slice(-3000)}\n--- agent (tail) ---\n${agent?.output().slice(-3000)}`,
    );
  }
}

function lanplus(user: string, password: string, args: string[], cipher?: string): Promise<Run> {
  const c = cipher ? ['-C', cipher] : [];
  return run('ipmitool', [
    '-I',
    'lanplus',
    '-H',
    '127.0.0.1',
    '-p',
    String(ipmiPort),
    ...c,
    '-U',
    user,
    '-P',
    password,
    ...args,
  ]);
}

/** The test → guest mailbox: LAN parameter 16 over RMCP+ as the admin user. */
async function tellGuest(word: string): Promise<void> {
  const r = await lanplus(ADMIN.user, ADMIN.password, ['lan', 'set', '1', 'snmp', word]);
  expect(r.code, r.stderr).toBe(0);
}

function curl(args: string[]): Promise<Run> {
  return run('curl', ['-sk', '-w', '\n%{http_code}', ...args]);
}

/** MAAS's ipmi power driver: ipmipower with its workaround flag, driver type, cipher suite and privilege. */
function ipmipower(reg: Registration, action: string): Promise<Run> {
  return run('ipmipower', [
    '-W',
    'opensesspriv',
    '--driver-type',
    reg.power_driver,
    '-h',
    `127.0.0.1:${ipmiPort}`,
    '-u',
    reg.power_user,
    '-p',
    reg.power_pass,
    '-I',
    reg.cipher_suite_id,
    '-l',
    reg.privilege_level,
    action,
  ]);
}

/** Waits for the guest's commissioning run for `user` that started after `from`; returns its console text. */
async function commission(user: string, from: number): Promise<string> {
  await waitSerial(
    `commissioning as ${user}`,
    new RegExp(`^MF commission (done|failed) user=${user}$`, 'm'),
    from,
    600_000,
  );
  const out = serial().slice(from);
  expect(out, out).toContain(`MF commission done user=${user}`);
  return out;
}

/** The "MAAS key: value" lines: what bmc_config.py would hand to MAAS as the machine's power parameters. */
function registrationIn(out: string): Registration {
  const reg: Record<string, string> = {};
  for (const m of out.matchAll(/^MAAS (\w+): ?(.*)$/gm)) reg[m[1]!] = m[2]!;
  return reg as unknown as Registration;
}

interface Registration {
  power_type: string;
  power_address: string;
  power_user: string;
  power_pass: string;
  power_driver: string;
  power_boot_type: string;
  cipher_suite_id: string;
  privilege_level: string;
  mac_address: string;
}

async function lanMac(): Promise<string> {
  const r = await lanplus(ADMIN.user, ADMIN.password, ['lan', 'print', '1']);
  const mac = /^MAC Address\s+:\s+(\S+)/m.exec(r.stdout)?.[1];
  if (!mac) throw new Error(`no MAC in lan print: ${r.stdout}${r.stderr}`);
  return mac;
}

beforeAll(async () => {
  for (const tool of ['qemu-system-x86_64', 'ipmitool', 'ipmipower', 'ipmi-chassis-config', 'curl'])
    requireCommand(tool, 'bash test/env/apt.sh');
  const fixture = guestFixture();
  dir = mkdtempSync(join(tmpdir(), 'maas-flow-'));
  serialLog = join(dir, 'guest-console.log');
  const scriptFile = join(dir, 'guest.sh');
  writeFileSync(scriptFile, `SETUP_PASSWORD='${SETUP_PASSWORD}'\n${readFileSync(guestScript, 'utf8')}`);
  const [redfish, vnc, serialPort, inband] = await freePorts(4);
  const [ipmi] = await freePorts(1, 'udp');
  redfishPort = redfish!;
  ipmiPort = ipmi!;
  const append = 'console=ttyS1 quiet panic=-1 qbmc.stay=1';
  env = {
    QEMU_MODE: 'managed',
    STATE_DIR: dir,
    ENABLE_KVM: 'false',
    VM_MEMORY: '256',
    VM_CPUS: '1',
    VM_DISK: '',
    REDFISH_PORT: String(redfishPort),
    IPMI_PORT: String(ipmiPort),
    VNC_PORT: String(vnc),
    SERIAL_ADDR: `127.0.0.1:${serialPort}`,
    VM_IPMI_ADDR: `127.0.0.1:${inband}`,
    BMC_ADDRESS: ADVERTISED,
    IPMI_USER: ADMIN.user,
    IPMI_PASS: ADMIN.password,
    POWER_ON_AT_START: 'true',
    // The documented way to restart the agent without touching the VM: the next agent adopts the running QEMU.
    VM_STOP_ON_EXIT: 'false',
    GRACEFUL_SHUTDOWN_TIMEOUT: '3',
    QEMU_EXTRA_ARGS: [
      `-kernel ${fixture.kernel} -initrd ${fixture.initrd} -append '${append}'`,
      `-fw_cfg name=opt/qbmc/cmd,file=${scriptFile}`,
      // ttyS1: the guest's console, appended across power cycles (each cycle is a new QEMU process).
      `-chardev file,id=console1,path=${serialLog},append=on -serial chardev:console1`,
    ].join(' '),
  };
  startAgent();
});

afterAll(async () => {
  if (agent && agent.child.exitCode === null && agent.child.signalCode === null) {
    agent.child.kill('SIGKILL');
    await agent.exited;
  }
  // VM_STOP_ON_EXIT=false leaves QEMU behind by design: stop the ones this test saw, by PID, once their command line
  // shows they are still ours (an old PID may belong to another process by now).
  const last = qemuPid();
  for (const pid of new Set([...qemuPids, ...(last ? [last] : [])])) if (ours(pid)) process.kill(pid, 'SIGKILL');
  if (dir) {
    // Kept for whoever reads a failure: the guest's console across all boots (test-results/ is not committed).
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, 'maas-flow-guest-console.log'), serial());
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('MAAS flow: in-band set-up and commissioning in the guest, power from outside, agent restarts', () => {
  let firstPid: number;
  let registration: Registration;
  /** Each step needs the one before it; a later step fails at once instead of waiting out its timeouts. */
  let stepsDone = 0;
  const needStep = (step: number) => {
    if (stepsDone < step) throw new Error(`step ${step} did not complete; this step depends on it`);
  };

  it('guest sets up user maas in-band (ipmitool over KCS); lanplus and Redfish log in as maas; guest power cycle makes a new QEMU', async () => {
    await waitSerial('the set-up phase', /^MF setup done$/m, 0, 300_000);
    firstPid = qemuPid()!;
    expect(firstPid).toBeGreaterThan(0);
    const boot1 = serial();
    expect(boot1).toMatch(/^MF boot phase=setup user3=other$/m);
    for (const step of ['user-set-name', 'user-set-password', 'channel-setaccess', 'user-enable', 'bootdev-pxe'])
      expect(boot1).toContain(`MF step ${step} ok`);
    // lan print 1 in-band shows the advertised address (LAN parameter 3), mc info answers.
    expect(boot1).toMatch(new RegExp(`^MF lan IP Address\\s+: ${ADVERTISED.replaceAll('.', '\\.')}$`, 'm'));
    expect(boot1).toMatch(/^MF lan MAC Address\s+: [0-9a-f]{2}(:[0-9a-f]{2}){5}$/m);
    expect(boot1).toMatch(/^MF mc IPMI Version\s+: 2\.0$/m);

    // From outside: ipmitool lanplus (default cipher 17, and 3) as maas, with Administrator privilege.
    const mc = await lanplus('maas', SETUP_PASSWORD, ['-L', 'ADMINISTRATOR', 'mc', 'info']);
    expect(mc.code, mc.stderr).toBe(0);
    expect(mc.stdout).toMatch(/IPMI Version\s+: 2\.0/);
    const status = await lanplus('maas', SETUP_PASSWORD, ['chassis', 'status'], '3');
    expect(status.stdout).toMatch(/System Power\s+: on/);
    const wrong = await lanplus('maas', 'not-the-password', ['mc', 'info']);
    expect(wrong.code).not.toBe(0);
    // bootdev pxe from the guest is the next boot's override, as Redfish shows it.
    const basic = await curl(['-u', `maas:${SETUP_PASSWORD}`, `https://127.0.0.1:${redfishPort}/redfish/v1/Systems/1`]);
    expect(basic.stdout.trim().split('\n').pop()).toBe('200');
    const system = JSON.parse(basic.stdout.slice(0, basic.stdout.lastIndexOf('\n'))) as {
      Boot: { BootSourceOverrideTarget: string; BootSourceOverrideEnabled: string };
      PowerState: string;
    };
    expect(system.Boot).toMatchObject({ BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once' });
    expect(system.PowerState).toBe('On');
    // Redfish session login as maas, then the token alone.
    const login = await run('curl', [
      '-sk',
      '-D',
      '-',
      '-o',
      '/dev/null',
      '-H',
      'Content-Type: application/json',
      '-d',
      JSON.stringify({ UserName: 'maas', Password: SETUP_PASSWORD }),
      `https://127.0.0.1:${redfishPort}/redfish/v1/SessionService/Sessions`,
    ]);
    expect(login.stdout).toMatch(/^HTTP\/\S+ 201/);
    const token = /^x-auth-token:\s*(\S+)/im.exec(login.stdout)?.[1];
    expect(token).toBeTruthy();
    const bySession = await curl([
      '-H',
      `X-Auth-Token: ${token}`,
      `https://127.0.0.1:${redfishPort}/redfish/v1/Systems/1`,
    ]);
    expect(bySession.stdout.trim().split('\n').pop()).toBe('200');
    const refused = await curl(['-u', 'maas:wrong-password', `https://127.0.0.1:${redfishPort}/redfish/v1/Systems/1`]);
    expect(refused.stdout.trim().split('\n').pop()).toBe('401');

    // The guest runs `ipmitool chassis power cycle`: a new QEMU process boots the guest again.
    const before = serial().length;
    await tellGuest('cycle');
    await waitSerial('the guest to ask for a power cycle', /^MF power cycle requested$/m, before, 120_000);
    const secondPid = await waitFor('a new QEMU process', 120_000, () => {
      const pid = qemuPid();
      return pid !== undefined && pid !== firstPid && processAlive(pid) ? pid : undefined;
    });
    expect(processAlive(firstPid)).toBe(false);
    // The second boot sees user maas in-band and does not set up (or cycle) again.
    await waitSerial('the second boot', /^MF boot phase=running user3=maas$/m, before, 300_000);
    await waitSerial('a tick of the second boot', /^MF tick 0 mailbox=cycle$/m, before, 120_000);
    firstPid = secondPid;
    stepsDone = 1;
  }, 900_000);

  it("runs MAAS's commissioning BMC configuration in-band; what MAAS registers powers the VM from outside", async () => {
    needStep(1);
    const before = serial().length;
    await tellGuest('commission');
    const out = await commission('maas', before);
    registration = registrationIn(out);
    // What MAAS would store as the machine's power parameters.
    expect(registration).toMatchObject({
      power_type: 'ipmi',
      power_address: ADVERTISED,
      power_user: 'maas',
      power_driver: 'LAN_2_0',
      power_boot_type: 'auto',
      // bmc-config lists only suites 0..15 (so 3 here); ipmitool's lan print shows 3,17 with 17 at Administrator.
      cipher_suite_id: '17',
      privilege_level: 'ADMIN',
    });
    expect(registration.power_pass).toMatch(/^[A-Za-z0-9]{10,15}$/);
    expect(registration.mac_address.toLowerCase()).toBe((await lanMac()).toLowerCase());
    expect(out).toMatch(/^MF detected IPMI Version: 2\.0$/m);
    expect(out).toMatch(/^MF user slot=User3$/m); // the existing user maas is reused, as MAAS does
    expect(out).toMatch(/^MF commit User3:Password$/m);

    // With MAAS's maas_auto_ipmi_user set to another name, the script takes the first unnamed slot (User4), which
    // bmc-config shows as disabled, no access and callback-restricted; what it registers works as well.
    const before2 = serial().length;
    await tellGuest('commission:maas2');
    const out2 = await commission('maas2', before2);
    const second = registrationIn(out2);
    expect(out2).toMatch(/^MF user slot=User4$/m);
    for (const key of ['Username', 'Password', 'Enable_User', 'Lan_Privilege_Limit', 'Lan_Enable_IPMI_Msgs'])
      expect(out2).toMatch(new RegExp(`^MF commit User4:${key}$`, 'm'));
    expect(second).toMatchObject({ power_address: ADVERTISED, power_user: 'maas2', cipher_suite_id: '17' });
    expect(second.power_pass).not.toBe(registration.power_pass);
    const stat2 = await ipmipower(second, '--stat');
    expect(stat2.stdout.trim(), stat2.stderr).toBe('127.0.0.1: on');
    const users = await lanplus(ADMIN.user, ADMIN.password, ['user', 'list', '1']);
    expect(users.stdout).toMatch(/^3\s+maas\s+.*ADMINISTRATOR$/m);
    expect(users.stdout).toMatch(/^4\s+maas2\s+.*ADMINISTRATOR$/m);
    await tellGuest('idle');

    // The new password is the one that works now; the set-up one is gone.
    expect((await lanplus('maas', registration.power_pass, ['mc', 'info'])).code).toBe(0);
    expect((await lanplus('maas', SETUP_PASSWORD, ['mc', 'info'])).code).not.toBe(0);

    // MAAS's power driver: query, off, query, then on = ipmi-chassis-config (PXE, not persistent) + --cycle --on-if-off.
    const pid = qemuPid()!;
    const stat = await ipmipower(registration, '--stat');
    expect(stat.stdout.trim(), stat.stderr).toBe('127.0.0.1: on');
    const off = await ipmipower(registration, '--off');
    expect(off.stdout.trim(), off.stderr).toBe('127.0.0.1: ok');
    await waitFor('QEMU to exit after power off', 60_000, () => (processAlive(pid) ? undefined : true));
    expect((await ipmipower(registration, '--stat')).stdout.trim()).toBe('127.0.0.1: off');

    const config = join(dir, 'chassis.conf');
    writeFileSync(config, 'Section Chassis_Boot_Flags\n\tBoot_Flags_Persistent No\n\tBoot_Device PXE\nEndSection\n');
    const chassis = await run('ipmi-chassis-config', [
      '-W',
      'opensesspriv',
      '--driver-type',
      registration.power_driver,
      '-h',
      `127.0.0.1:${ipmiPort}`,
      '-u',
      registration.power_user,
      '-p',
      registration.power_pass,
      '-I',
      registration.cipher_suite_id,
      '-l',
      registration.privilege_level,
      '--commit',
      '--filename',
      config,
    ]);
    expect(chassis.code, chassis.stdout + chassis.stderr).toBe(0);
    const before3 = serial().length;
    const onIfOff = await run('ipmipower', [
      '-W',
      'opensesspriv',
      '--driver-type',
      registration.power_driver,
      '-h',
      `127.0.0.1:${ipmiPort}`,
      '-u',
      registration.power_user,
      '-p',
      registration.power_pass,
      '-I',
      registration.cipher_suite_id,
      '-l',
      registration.privilege_level,
      '--cycle',
      '--on-if-off',
    ]);
    expect(onIfOff.stdout.trim(), onIfOff.stderr).toBe('127.0.0.1: ok');
    const third = await waitFor('QEMU after power on', 60_000, () => {
      const p = qemuPid();
      return p !== undefined && p !== pid && processAlive(p) ? p : undefined;
    });
    await waitSerial('the third boot', /^MF boot phase=running user3=maas$/m, before3, 300_000);
    expect((await ipmipower(registration, '--stat')).stdout.trim()).toBe('127.0.0.1: on');
    expect(processAlive(third)).toBe(true);
    stepsDone = 2;
  }, 900_000);

  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`after the agent is stopped with ${signal}, the next agent adopts the same VM; maas still works; the in-band channel reconnects`, async () => {
      needStep(2);
      const running = agent!;
      const pid = qemuPid()!;
      expect(processAlive(pid)).toBe(true);
      const boots = serial().match(/^MF boot phase=/gm)?.length;
      running.child.kill(signal);
      const code = await running.exited;
      if (signal === 'SIGTERM') expect(code, running.output().slice(-2000)).toBe(0);
      expect(processAlive(pid)).toBe(true); // VM_STOP_ON_EXIT=false on SIGTERM; nothing at all runs on SIGKILL
      const next = startAgent();
      await waitFor('adoption', 60_000, () => (next.output().includes('adopted the running QEMU') ? true : undefined));
      expect(qemuPid()).toBe(pid);
      expect(next.output()).not.toContain('power restore: powering on');
      // The user MAAS registered works on the new agent.
      const mc = await lanplus('maas', registration.power_pass, ['mc', 'info']);
      expect(mc.code, mc.stderr).toBe(0);
      expect((await ipmipower(registration, '--stat')).stdout.trim()).toBe('127.0.0.1: on');
      // QEMU's chardev reconnects (reconnect=1) to the new agent: the guest reads, in-band, a value that only the
      // new agent holds (the mailbox is volatile, and set after the restart).
      const probe = `probe-${signal.toLowerCase()}`;
      const from = serial().length;
      await tellGuest(probe);
      await waitSerial(
        `an in-band read of ${probe}`,
        new RegExp(`^MF tick \\d+ mailbox=${probe}$`, 'm'),
        from,
        120_000,
      );
      // /metrics takes the same credentials as Redfish.
      const metrics = await curl(['-u', `${ADMIN.user}:${ADMIN.password}`, `https://127.0.0.1:${redfishPort}/metrics`]);
      expect(metrics.stdout.trim().split('\n').at(-1)).toBe('200');
      expect(metrics.stdout).toMatch(/^qemubmc_inband_connected 1$/m);
      expect(metrics.stdout).not.toMatch(/^qemubmc_inband_frame_errors_total\{[^}]*\} [1-9]/m);
      expect(processAlive(pid)).toBe(true);
      expect(qemuPid()).toBe(pid);
      expect(serial().match(/^MF boot phase=/gm)?.length, 'the guest booted again').toBe(boots);
      if (signal === 'SIGTERM') stepsDone = 3;
    }, 400_000);
  }

  it('SIGTERM with the default VM_STOP_ON_EXIT=true (as in the operator pods): the VM shuts down, the next agent powers it on (restore policy), maas still works in-band and over LAN', async () => {
    needStep(3);
    // Hand the running VM to an agent with the default: SIGKILL the current one, the next adopts the QEMU.
    const pid = qemuPid()!;
    const previous = agent!;
    previous.child.kill('SIGKILL');
    await previous.exited;
    const stopping = startAgent({ VM_STOP_ON_EXIT: 'true' });
    await waitFor('adoption', 60_000, () =>
      stopping.output().includes('adopted the running QEMU') ? true : undefined,
    );
    stopping.child.kill('SIGTERM');
    expect(await stopping.exited, stopping.output().slice(-2000)).toBe(0);
    expect(processAlive(pid), 'SIGTERM with VM_STOP_ON_EXIT=true stops the VM').toBe(false);

    const from = serial().length;
    const next = startAgent({ VM_STOP_ON_EXIT: 'true' });
    await waitFor('power restore', 60_000, () =>
      next.output().includes('power restore: powering on') ? true : undefined,
    );
    const newPid = await waitFor('a new QEMU', 60_000, () => {
      const p = qemuPid();
      return p !== undefined && p !== pid && processAlive(p) ? p : undefined;
    });
    await waitSerial('the guest to boot again', /^MF boot phase=running user3=maas$/m, from, 300_000);
    await tellGuest('probe-restored');
    await waitSerial('an in-band read after the restore', /^MF tick \d+ mailbox=probe-restored$/m, from, 120_000);
    const mc = await lanplus('maas', registration.power_pass, ['mc', 'info']);
    expect(mc.code, mc.stderr).toBe(0);
    expect((await ipmipower(registration, '--stat')).stdout.trim()).toBe('127.0.0.1: on');
    expect(processAlive(newPid)).toBe(true);
  }, 600_000);
});
