import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guestFixture } from '../support/guest.ts';
import {
  AGENT_IMAGE,
  type AgentContainer,
  buildImage,
  type Credentials,
  curl,
  docker,
  ipmitool,
  removeContainers,
  removeVolumes,
  repoRoot,
  requireClients,
  runCommand,
  startAgentContainer,
  uniqueName,
  waitFor,
} from './support.ts';

// The agent image as users run it: one container, QEMU under TCG inside, the guest fixture's kernel and initramfs on
// a read-only volume, the VM disk and the BMC state on named volumes, IPMI and Redfish through published ports.
// One container for the whole file; the tests run in order and each leaves the VM in a state the next one names.
//
// The guest's console is its second serial port, appended to /tmp/guest-serial.log in the container (the first one
// is the agent's SOL target): every boot adds a QBMC-BEGIN line. The guest's script also talks to the agent in-band
// (KCS → ipmi-bmc-extern → VM_IPMI_ADDR), so a booted guest is visible over IPMI LAN too.

const admin: Credentials = { user: 'admin', password: `pw-${randomBytes(4).toString('hex')}` };
const GUEST_LOG = '/tmp/guest-serial.log';
const guestScript = [
  "ipmitool mc info | grep 'Device ID'",
  'ipmitool user set name 6 guest-inband && echo in-band-ok',
].join('\n');

const volumes = { vm: uniqueName('vm'), state: uniqueName('state') };
let agent: AgentContainer;

function ipmi(args: string[], creds: Credentials = admin) {
  return ipmitool(agent.ipmiPort, creds, args);
}

function ipmiOk(args: string[], creds: Credentials = admin): string {
  const r = ipmi(args, creds);
  if (r.code !== 0) throw new Error(`ipmitool ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

function redfish(method: string, path: string, body?: unknown) {
  return curl(agent.redfishPort, method, path, { creds: admin, body });
}

function system(): Record<string, unknown> {
  const r = redfish('GET', '/redfish/v1/Systems/1');
  expect(r.status).toBe(200);
  return r.json!;
}

function boot(): Record<string, unknown> {
  return system()['Boot'] as Record<string, unknown>;
}

async function powerIs(state: 'on' | 'off', timeoutMs = 60_000): Promise<void> {
  await waitFor(
    `chassis power ${state}`,
    () => (ipmi(['chassis', 'power', 'status']).stdout.trim() === `Chassis Power is ${state}` ? true : undefined),
    timeoutMs,
  );
}

async function guestBoots(): Promise<number> {
  const r = await agent.exec(['sh', '-c', `cat ${GUEST_LOG} 2>/dev/null || true`]);
  return r.stdout.split('\n').filter((l) => l.trim() === 'QBMC-BEGIN').length;
}

/** Waits until the guest has finished its script `count` times in total; returns the log. */
async function guestFinished(count: number): Promise<string> {
  return waitFor(
    `guest boot #${count} to finish its script`,
    async () => {
      const log = (await agent.exec(['sh', '-c', `cat ${GUEST_LOG} 2>/dev/null || true`])).stdout;
      return log.split('\n').filter((l) => l.trim() === 'QBMC-END rc=0').length >= count ? log : undefined;
    },
    150_000,
    1_000,
  );
}

async function newQemuPid(old: number | null): Promise<number> {
  return waitFor(
    'a new QEMU process',
    async () => {
      const pid = await agent.qemuPid();
      return pid !== null && pid !== old ? pid : undefined;
    },
    60_000,
  );
}

describe('agent image: BMC + QEMU in one container', () => {
  beforeAll(async () => {
    requireClients();
    buildImage('Dockerfile.agent', AGENT_IMAGE);
    const fixture = guestFixture();
    const script = Buffer.from(guestScript).toString('base64');
    agent = await startAgentContainer({
      env: {
        ENABLE_KVM: 'false',
        IPMI_USER: admin.user,
        IPMI_PASS: admin.password,
        VM_MEMORY: '256',
        VM_CPUS: '1',
        VM_DISK_SIZE: '1G',
        VM_IPMI_ADDR: '127.0.0.1:9002',
        // The fixture ignores ACPI power-off: keep forced power-offs (power soft, docker stop) short.
        GRACEFUL_SHUTDOWN_TIMEOUT: '5',
        QEMU_EXTRA_ARGS:
          `-kernel /guest/vmlinuz -initrd /guest/initramfs.cpio.gz ` +
          `-append 'console=ttyS1 quiet panic=-1 qbmc.stay=1 qbmc.cmd=${script}' ` +
          `-chardev file,id=guestlog,path=${GUEST_LOG},append=on -serial chardev:guestlog`,
      },
      mounts: [
        { source: fixture.dir, target: '/guest', mode: 'ro' },
        { source: volumes.vm, target: '/vm' },
        { source: volumes.state, target: '/var/lib/qemu-bmc' },
      ],
    });
  });

  afterAll(async () => {
    if (agent) writeFileSync(resolve(repoRoot, 'test-results/container-agent.log'), agent.logs());
    if (agent) await agent.container.stop({ remove: true, timeout: 30_000 }).catch(() => removeContainers(agent.id));
    removeVolumes(volumes.vm, volumes.state);
  });

  it('runs tini as PID 1, which runs the agent; no QEMU until powered on, no other daemons', async () => {
    const pid1 = await agent.exec(['cat', '/proc/1/cmdline']);
    expect(pid1.stdout.split('\0').filter(Boolean)).toEqual(['tini', '--', 'node', 'dist/agent/main.mjs']);
    // Program of every process (node's main thread is called MainThread in /proc/PID/comm, so read cmdline).
    const ps = await agent.exec([
      'sh',
      '-c',
      'for p in /proc/[0-9]*; do head -c 100 "$p/cmdline" | tr "\\0" " "; echo; done',
    ]);
    const programs = ps.stdout
      .split('\n')
      .map((l) => l.split(' ')[0] ?? '')
      .filter((p) => p !== '' && !['sh', 'head', 'tr'].includes(p));
    expect(programs.sort()).toEqual(['node', 'tini']);
    expect(await agent.qemuPid()).toBeNull();
    expect(ipmiOk(['chassis', 'power', 'status']).trim()).toBe('Chassis Power is off');
  });

  it('answers ipmitool lanplus through the published UDP port and rejects a wrong password or user', () => {
    const info = ipmiOk(['mc', 'info']);
    expect(info).toMatch(/^Device ID\s+:/m);
    expect(info).toMatch(/^Firmware Revision\s+:/m);
    expect(info).toMatch(/^IPMI Version\s+:\s+2\.0$/m);
    expect(ipmi(['mc', 'info'], { user: admin.user, password: 'wrong-password' }).code).not.toBe(0);
    expect(ipmi(['mc', 'info'], { user: 'nobody', password: admin.password }).code).not.toBe(0);
  });

  it('answers curl through the published HTTPS port: open service root, 401 without credentials', () => {
    const root = curl(agent.redfishPort, 'GET', '/redfish/v1/');
    expect(root.status).toBe(200);
    expect(root.json?.['RedfishVersion']).toMatch(/^1\.\d+\.\d+$/);
    expect(curl(agent.redfishPort, 'GET', '/redfish/v1/Systems/1').status).toBe(401);
    expect(system()['PowerState']).toBe('Off');
    expect(redfish('GET', '/redfish/v1/Managers/1').json?.['@odata.type']).toMatch(/^#Manager\./);
    expect(redfish('GET', '/redfish/v1/Chassis/1').json?.['@odata.type']).toMatch(/^#Chassis\./);
  });

  it('becomes healthy through the image HEALTHCHECK', async () => {
    const status = await waitFor(
      'health status healthy',
      () => {
        const s = docker(['inspect', '--format', '{{.State.Health.Status}}', agent.id]).trim();
        return s === 'healthy' ? s : undefined;
      },
      120_000,
      2_000,
    );
    expect(status).toBe('healthy');
  });

  it('powers on over IPMI: QEMU runs under TCG with the configured resources and the guest boots', async () => {
    expect(ipmiOk(['chassis', 'power', 'on'])).toMatch(/Up\/On/);
    await powerIs('on');
    const argv = await agent.qemuArgv();
    expect(argv[0]).toBe('qemu-system-x86_64');
    expect(argv.join(' ')).toContain('-machine q35,accel=tcg');
    expect(argv.join(' ')).toContain('-m 256 -smp 1');
    expect(argv.some((a) => a.includes('file=/vm/disk.qcow2'))).toBe(true);
    expect(argv).toContain('-kernel');
    const disk = await agent.exec(['qemu-img', 'info', '-U', '--output=json', '/vm/disk.qcow2']);
    expect(JSON.parse(disk.stdout)['virtual-size']).toBe(1024 ** 3);

    const log = await guestFinished(1);
    expect(log).toContain('in-band-ok');
    expect(log).toMatch(/Device ID\s+: \d+/);
    // What the guest did in-band is visible over LAN and Redfish.
    expect(ipmiOk(['user', 'list', '1'])).toMatch(/^6\s+guest-inband\s/m);
    expect(system()['PowerState']).toBe('On');
  });

  it('power reset keeps the QEMU process and reboots the guest', async () => {
    const pid = await agent.qemuPid();
    const boots = await guestBoots();
    ipmiOk(['chassis', 'power', 'reset']);
    await guestFinished(boots + 1);
    expect(await agent.qemuPid()).toBe(pid);
    expect(system()['PowerState']).toBe('On');
  });

  it('a boot device set over IPMI shows in Redfish, is applied by a power cycle (new QEMU) and Once clears', async () => {
    ipmiOk(['chassis', 'bootdev', 'cdrom']);
    expect(boot()).toMatchObject({ BootSourceOverrideTarget: 'Cd', BootSourceOverrideEnabled: 'Once' });
    const pid = await agent.qemuPid();
    const boots = await guestBoots();
    ipmiOk(['chassis', 'power', 'cycle']);
    const newPid = await newQemuPid(pid);
    expect(newPid).not.toBe(pid);
    const argv = await agent.qemuArgv();
    expect(argv.find((a) => a.startsWith('ide-cd,'))).toMatch(/bootindex=1(,|$)/);
    expect(argv.find((a) => a.startsWith('virtio-blk-pci,'))).not.toMatch(/bootindex=1(,|$)/);
    await guestFinished(boots + 1);
    await waitFor(
      'Once to clear',
      () => (boot()['BootSourceOverrideEnabled'] === 'Disabled' ? true : undefined),
      30_000,
    );
    expect(ipmiOk(['chassis', 'bootparam', 'get', '5'])).toMatch(/Boot Device Selector : No override/);
  });

  it('a Continuous override set over Redfish survives a cycle; UEFI mode boots OVMF from pflash, Legacy does not', async () => {
    let r = redfish('PATCH', '/redfish/v1/Systems/1', {
      Boot: {
        BootSourceOverrideTarget: 'Hdd',
        BootSourceOverrideEnabled: 'Continuous',
        BootSourceOverrideMode: 'UEFI',
      },
    });
    expect(r.status).toBeLessThan(300);
    expect(ipmiOk(['chassis', 'bootparam', 'get', '5'])).toMatch(/Hard-Drive/);
    let pid = await agent.qemuPid();
    ipmiOk(['chassis', 'power', 'cycle']);
    pid = await newQemuPid(pid);
    let argv = (await agent.qemuArgv()).join(' ');
    expect(argv).toMatch(/if=pflash,format=raw,unit=0,readonly=on,file=\/usr\/share\/OVMF\/OVMF_CODE/);
    expect(argv).toMatch(/if=pflash,format=raw,unit=1,file=\/var\/lib\/qemu-bmc\/OVMF_VARS/);
    expect(boot()).toMatchObject({ BootSourceOverrideTarget: 'Hdd', BootSourceOverrideEnabled: 'Continuous' });

    r = redfish('PATCH', '/redfish/v1/Systems/1', {
      Boot: { BootSourceOverrideEnabled: 'Disabled', BootSourceOverrideMode: 'Legacy' },
    });
    expect(r.status).toBeLessThan(300);
    const boots = await guestBoots();
    ipmiOk(['chassis', 'power', 'cycle']);
    await newQemuPid(pid);
    argv = (await agent.qemuArgv()).join(' ');
    expect(argv).not.toContain('pflash');
    await guestFinished(boots + 1);
  });

  it('detects a QEMU crash as power off, and powers on again after it', async () => {
    const pid = await agent.qemuPid();
    expect(pid).not.toBeNull();
    const kill = await agent.exec(['sh', '-c', `kill -KILL ${pid}`]);
    expect(kill.code).toBe(0);
    await powerIs('off');
    expect(system()['PowerState']).toBe('Off');
    expect(await agent.qemuPid()).toBeNull();
    const boots = await guestBoots();
    ipmiOk(['chassis', 'power', 'on']);
    await newQemuPid(pid);
    await guestFinished(boots + 1);
    await powerIs('on');
  });

  it('power soft: the guest ignores ACPI, so the agent forces the VM off after GRACEFUL_SHUTDOWN_TIMEOUT', async () => {
    ipmiOk(['chassis', 'power', 'soft']);
    await powerIs('off', 90_000);
    expect(await agent.qemuPid()).toBeNull();
    expect(system()['PowerState']).toBe('Off');
    expect(agent.logs()).toMatch(/guest ignored ACPI shutdown; forcing/);
  });

  it('Redfish power actions are seen over IPMI and the other way round', async () => {
    expect(
      redfish('POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', { ResetType: 'On' }).status,
    ).toBeLessThan(300);
    await powerIs('on');
    expect(await agent.qemuPid()).not.toBeNull();
    expect(
      redfish('POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', { ResetType: 'ForceOff' }).status,
    ).toBeLessThan(300);
    await powerIs('off');
    expect(await agent.qemuPid()).toBeNull();
    ipmiOk(['chassis', 'power', 'on']);
    await waitFor('Redfish PowerState On', () => (system()['PowerState'] === 'On' ? true : undefined), 60_000);
    // ipmitool bootdev → Redfish target, for each device the seed's boot suite sets.
    for (const [dev, target] of [
      ['pxe', 'Pxe'],
      ['disk', 'Hdd'],
      ['bios', 'BiosSetup'],
      ['cdrom', 'Cd'],
    ] as const) {
      ipmiOk(['chassis', 'bootdev', dev]);
      expect(boot()['BootSourceOverrideTarget']).toBe(target);
    }
    expect(
      redfish('PATCH', '/redfish/v1/Systems/1', { Boot: { BootSourceOverrideTarget: 'Pxe' } }).status,
    ).toBeLessThan(300);
    expect(ipmiOk(['chassis', 'bootparam', 'get', '5'])).toMatch(/Force PXE/);
    expect(redfish('PATCH', '/redfish/v1/Systems/1', { Boot: { BootSourceOverrideTarget: 'Cd' } }).status).toBeLessThan(
      300,
    );
    expect(ipmiOk(['chassis', 'bootparam', 'get', '5'])).toMatch(/Force Boot from CD\/DVD/);
  });

  it('docker stop is graceful (VM shut down, exit 0) and the BMC state survives a container restart', async () => {
    const ops: Credentials = { user: 'ops', password: `ops-${randomBytes(4).toString('hex')}` };
    ipmiOk(['user', 'set', 'name', '3', ops.user]);
    ipmiOk(['user', 'set', 'password', '3', ops.password]);
    ipmiOk(['channel', 'setaccess', '1', '3', 'callin=on', 'ipmi=on', 'link=on', 'privilege=4']);
    ipmiOk(['user', 'enable', '3']);
    expect(ipmiOk(['chassis', 'power', 'status'], ops).trim()).toBe('Chassis Power is on');
    ipmiOk(['chassis', 'bootdev', 'pxe', 'options=persistent']);
    expect(boot()).toMatchObject({ BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Continuous' });
    const uuid = system()['UUID'];
    expect(await agent.qemuPid()).not.toBeNull();

    const stop = runCommand('docker', ['stop', '-t', '60', agent.id], 120_000);
    expect(stop.code).toBe(0);
    const state = docker(['inspect', '--format', '{{.State.ExitCode}} {{.State.OOMKilled}}', agent.id]).trim();
    expect(state).toBe('0 false'); // 137 would mean docker had to SIGKILL it
    const logs = agent.logs();
    const order = ['"signal":"SIGTERM","msg":"shutting down"', '"msg":"QEMU stopped"', '"msg":"agent stopped"'];
    const at = order.map((line) => logs.lastIndexOf(line));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(logs).not.toContain('second signal');

    expect(runCommand('docker', ['start', agent.id]).code).toBe(0);
    await waitFor('IPMI after restart', () => (ipmi(['mc', 'info']).code === 0 ? true : undefined), 90_000);
    expect(ipmiOk(['user', 'list', '1'], ops)).toMatch(/^3\s+ops\s+true\s+true\s+true\s+ADMINISTRATOR/m);
    expect(ipmiOk(['chassis', 'bootparam', 'get', '5'])).toMatch(/Options apply to all future boots/);
    expect(boot()).toMatchObject({ BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Continuous' });
    expect(system()['UUID']).toBe(uuid);
  });
});
