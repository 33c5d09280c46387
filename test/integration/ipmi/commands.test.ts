// The IPMI command table through real clients: ipmitool -I lanplus (suites 17 and 3) and freeipmi against the real
// LAN transport, a FileBmcStore and a managed QEMU machine (TCG). Every change is checked on the Machine/store and,
// where Redfish models it, through the Redfish server sharing them (curl).
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileBmcStore, STATE_FILE_NAME } from '../../../bmc-agent/src/bmc/store.ts';
import { parseConfig } from '../../../bmc-agent/src/config.ts';
import { createCommandDispatcher } from '../../../bmc-agent/src/ipmi/commands/index.ts';
import { type InbandServer, startInbandServer } from '../../../bmc-agent/src/ipmi/inband/server.ts';
import { type IpmiLan, startIpmiLan } from '../../../bmc-agent/src/ipmi/lan.ts';
import { silentLogger } from '../../../bmc-agent/src/log.ts';
import { type AgentMachine, createMachine } from '../../../bmc-agent/src/machine/create.ts';
import type { PowerState } from '../../../bmc-agent/src/machine/types.ts';
import { redfishConfigFromAgent } from '../../../bmc-agent/src/redfish/from-agent-config.ts';
import { type RedfishServer, startRedfishServer } from '../../../bmc-agent/src/redfish/server.ts';
import { runInGuest } from '../../support/guest.ts';
import { freePorts } from '../../support/ports.ts';
import { requirePythonPeers } from '../../support/python.ts';
import { requireCommand } from '../../support/require.ts';

const run = promisify(execFile);
const UUID = '5b1c9e2a-7d3f-4e8a-9b6c-1d2e3f4a5b6c';
const ADDRESS = '192.0.2.10'; // the advertised BMC address (TEST-NET-1), as the operator passes the Service IP
const MAC = '02:42:c0:00:02:0a';
const ADMIN = { user: 'admin', password: 'admin-secret' };

let dir: string;
let store: FileBmcStore;
let machine: AgentMachine;
let lan: IpmiLan;
let redfish: RedfishServer;
let inband: InbandServer;
let dispatcher: ReturnType<typeof createCommandDispatcher>;
let port: number;
/** What handlers threw (MachineError refusals included), for failure messages. */
const handlerErrors: string[] = [];

interface RunResult {
  code: number;
  out: string;
}

async function tool(command: string, args: string[]): Promise<RunResult> {
  try {
    const { stdout, stderr } = await run(command, args, { timeout: 90_000 });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** ipmitool -I lanplus; default cipher suite (17) unless `suite` is given. */
interface Login {
  suite?: number;
  user?: string;
  password?: string;
  /** Session privilege to ask for (-L); ipmitool asks for ADMINISTRATOR by default. */
  level?: string;
}

async function ipmitool(args: string[], opts: Login = {}) {
  const argv = ['-I', 'lanplus', '-H', '127.0.0.1', '-p', String(port)];
  argv.push('-U', opts.user ?? ADMIN.user, '-P', opts.password ?? ADMIN.password);
  if (opts.suite !== undefined) argv.push('-C', String(opts.suite));
  if (opts.level !== undefined) argv.push('-L', opts.level);
  return tool('ipmitool', [...argv, ...args]);
}

/** ipmitool that must succeed; returns its output. */
async function ok(args: string[], opts: Login = {}): Promise<string> {
  const res = await ipmitool(args, opts);
  expect(res.code, `ipmitool ${args.join(' ')}\n${res.out}`).toBe(0);
  return res.out;
}

function freeipmiArgs(user = ADMIN.user, password = ADMIN.password): string[] {
  return ['-h', `127.0.0.1:${port}`, '-u', user, '-p', password, '-D', 'LAN_2_0', '--config-file=/dev/null'];
}

async function redfishGet(
  path: string,
  user = ADMIN.user,
  password = ADMIN.password,
): Promise<Record<string, unknown>> {
  const res = await tool('curl', ['-sk', '--fail-with-body', '-u', `${user}:${password}`, `${redfishUrl()}${path}`]);
  expect(res.code, res.out).toBe(0);
  return JSON.parse(res.out) as Record<string, unknown>;
}

function redfishUrl(): string {
  return `https://127.0.0.1:${redfish.port}`;
}

/** Polls (bounded) until the machine reports `state`. */
async function powerBecomes(state: PowerState, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (machine.powerState() !== state) {
    if (Date.now() > until) throw new Error(`power stayed ${machine.powerState()}, wanted ${state}`);
    await sleep(200);
  }
}

beforeAll(async () => {
  for (const command of [
    'ipmitool',
    'ipmipower',
    'bmc-info',
    'ipmi-chassis-config',
    'bmc-config',
    'curl',
    'qemu-system-x86_64',
  ])
    requireCommand(command, 'bash test/env/apt.sh');
  dir = await mkdtemp(join(tmpdir(), 'ipmi-commands-it-'));
  const [redfishPort, vncPort, serialPort, inbandPort] = await freePorts(4);
  const config = parseConfig(
    {
      QEMU_MODE: 'managed',
      STATE_DIR: dir,
      REDFISH_PORT: String(redfishPort),
      VNC_PORT: String(vncPort),
      SERIAL_ADDR: `127.0.0.1:${serialPort}`,
      BMC_ADDRESS: ADDRESS,
      BMC_MAC: MAC,
      IPMI_USER: ADMIN.user,
      IPMI_PASS: ADMIN.password,
      ENABLE_KVM: 'false',
      VM_MEMORY: '128',
      VM_CPUS: '2',
      VM_DISK: '',
      GRACEFUL_SHUTDOWN_TIMEOUT: '3',
    },
    { primaryIPv4: () => null },
  );
  store = await FileBmcStore.open({
    path: join(dir, STATE_FILE_NAME),
    seed: {
      adminUser: ADMIN.user,
      adminPassword: ADMIN.password,
      address: config.bmcAddress,
      macAddress: MAC,
      powerRestorePolicy: 'always-off',
    },
  });
  const log = silentLogger();
  machine = await createMachine({ config, store, log, uuid: UUID });
  dispatcher = createCommandDispatcher({ onError: (error) => handlerErrors.push(String(error)) });
  dispatcher.attach(machine);
  lan = await startIpmiLan({
    config: {
      port: 0,
      host: '127.0.0.1',
      cipherSuites: [3, 17],
      allowV15: false,
      maxSessions: 16,
      sessionTimeoutSec: 30,
    },
    log,
    registry: new Registry(),
    machine,
    store,
    dispatcher,
  });
  port = lan.address.port;
  inband = await startInbandServer({
    address: `127.0.0.1:${inbandPort}`,
    dispatcher,
    machine,
    store,
    cipherSuites: [3, 17],
    log,
    registry: new Registry(),
  });
  redfish = await startRedfishServer({
    config: { ...redfishConfigFromAgent(config, UUID), host: '127.0.0.1' },
    log,
    registry: new Registry(),
    machine,
    store,
  });
});

afterAll(async () => {
  await lan?.close();
  await inband?.close();
  await redfish?.close();
  dispatcher?.close();
  if (machine && 'shutdown' in machine) await machine.shutdown(false, 5_000);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('ipmitool lanplus against the command table', () => {
  it('mc info with the default cipher suite and with -C 3; mc guid prints the VM UUID', async () => {
    for (const suite of [undefined, 3]) {
      const out = await ok(['mc', 'info'], suite === undefined ? {} : { suite });
      expect(out).toMatch(/IPMI Version\s+: 2\.0/);
      expect(out).toMatch(/Device Available\s+: yes/);
      expect(out).toMatch(/Chassis Device/);
    }
    expect(await ok(['mc', 'guid'])).toMatch(new RegExp(`System GUID\\s+: ${UUID}`));
  });

  it('chassis power on/off/cycle/reset/soft drive the VM, and Redfish sees the same power state', async () => {
    expect(await ok(['chassis', 'power', 'on'])).toMatch(/Up\/On/);
    await powerBecomes('On');
    expect(await ok(['chassis', 'status'])).toMatch(/System Power\s+: on/);
    expect((await redfishGet('/redfish/v1/Systems/1'))['PowerState']).toBe('On');

    expect(await ok(['chassis', 'power', 'reset'])).toMatch(/Reset/);
    expect(machine.powerState()).toBe('On');
    expect(await ok(['chassis', 'power', 'diag'])).toMatch(/Diag/); // NMI
    expect(machine.powerState()).toBe('On');
    expect(await ok(['chassis', 'power', 'cycle'])).toMatch(/Cycle/);
    await powerBecomes('On');

    expect(await ok(['chassis', 'power', 'off'])).toMatch(/Down\/Off/);
    await powerBecomes('Off');
    expect(await ok(['chassis', 'power', 'status'])).toMatch(/Chassis Power is off/);
    expect((await redfishGet('/redfish/v1/Systems/1'))['PowerState']).toBe('Off');

    await ok(['chassis', 'power', 'on']);
    await powerBecomes('On');
    // No OS answers ACPI here: the machine falls back to power off after GRACEFUL_SHUTDOWN_TIMEOUT.
    expect(await ok(['chassis', 'power', 'soft'])).toMatch(/Soft/);
    await powerBecomes('Off');
    expect(await ok(['chassis', 'restart_cause'])).toMatch(/chassis power control command/);
    expect(await ok(['sel', 'list'])).toMatch(/Power Unit .*Power off\/down \| Asserted/);
  });

  it('bootdev pxe/disk/cdrom with options=persistent,efiboot set the override; bootparam get 5 shows it', async () => {
    await ok(['chassis', 'bootdev', 'pxe', 'options=persistent,efiboot']);
    expect(machine.bootOverride()).toEqual({ target: 'Pxe', enabled: 'Continuous', mode: 'UEFI' });
    const boot = (await redfishGet('/redfish/v1/Systems/1'))['Boot'] as Record<string, string>;
    expect(boot['BootSourceOverrideTarget']).toBe('Pxe');
    expect(boot['BootSourceOverrideEnabled']).toBe('Continuous');
    expect(boot['BootSourceOverrideMode']).toBe('UEFI');
    const param = await ok(['chassis', 'bootparam', 'get', '5']);
    expect(param).toMatch(/Boot parameter 5 is valid\/unlocked/);
    expect(param).toMatch(/Boot Device Selector : Force PXE/);
    expect(param).toMatch(/Options apply to all future boots/);
    expect(param).toMatch(/BIOS EFI boot/);

    await ok(['chassis', 'bootdev', 'disk']);
    expect(machine.bootOverride()).toEqual({ target: 'Hdd', enabled: 'Once', mode: 'Legacy' });
    expect(await ok(['chassis', 'bootparam', 'get', '5'])).toMatch(/Force Boot from default Hard-Drive\n/);

    await ok(['chassis', 'bootdev', 'cdrom', 'options=persistent']);
    expect(machine.bootOverride()).toEqual({ target: 'Cd', enabled: 'Continuous', mode: 'Legacy' });
    expect(await ok(['chassis', 'bootparam', 'get', '5'])).toMatch(/Force Boot from CD\/DVD/);
  });

  it('a Redfish boot override shows up in bootparam get 5 (the reverse direction)', async () => {
    const patch = await tool('curl', [
      '-sk',
      '--fail-with-body',
      '-u',
      `${ADMIN.user}:${ADMIN.password}`,
      '-X',
      'PATCH',
      '-H',
      'Content-Type: application/json',
      '-d',
      JSON.stringify({ Boot: { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once' } }),
      `${redfishUrl()}/redfish/v1/Systems/1`,
    ]);
    expect(patch.code, patch.out).toBe(0);
    const param = await ok(['chassis', 'bootparam', 'get', '5']);
    expect(param).toMatch(/Force PXE/);
    expect(param).toMatch(/Options apply to only next boot/);
  });

  it('user set name/password, channel setaccess, user enable/priv: the new user logs in over IPMI and Redfish', async () => {
    await ok(['user', 'set', 'name', '3', 'maas']);
    await ok(['user', 'set', 'password', '3', 'maas-pass-2024', '20']);
    await ok(['channel', 'setaccess', '1', '3', 'callin=on', 'ipmi=on', 'link=on', 'privilege=4']);
    await ok(['user', 'enable', '3']);
    const list = await ok(['user', 'list', '1']);
    expect(list).toMatch(/^3\s+maas\s+true\s+true\s+true\s+ADMINISTRATOR$/m);
    expect(await ok(['user', 'test', '3', '20', 'maas-pass-2024'])).toMatch(/Success/);
    expect((await ipmitool(['user', 'test', '3', '20', 'wrong'])).out).toMatch(/Failure/);
    expect(store.checkPassword('maas', 'maas-pass-2024')?.id).toBe(3);

    expect(await ok(['chassis', 'power', 'status'], { user: 'maas', password: 'maas-pass-2024', suite: 3 })).toMatch(
      /Chassis Power is/,
    );
    const system = await redfishGet('/redfish/v1/Systems/1', 'maas', 'maas-pass-2024');
    expect(system['UUID']).toBe(UUID);

    await ok(['user', 'priv', '3', '2', '1']);
    expect(store.userById(3)?.channels[1]?.privilege).toBe(2);
    const denied = await ipmitool(['chassis', 'power', 'on'], { user: 'maas', password: 'maas-pass-2024' });
    expect(denied.code).not.toBe(0);
    await ok(['user', 'disable', '3']);
    expect(store.checkPassword('maas', 'maas-pass-2024')).toBeUndefined();
  });

  it('an account created through Redfish appears in ipmitool user list and logs in over IPMI (the reverse)', async () => {
    const created = await tool('curl', [
      '-sk',
      '--fail-with-body',
      '-u',
      `${ADMIN.user}:${ADMIN.password}`,
      '-X',
      'POST',
      '-H',
      'Content-Type: application/json',
      '-d',
      JSON.stringify({ UserName: 'tinker', Password: 'tinker-secret', RoleId: 'Operator' }),
      `${redfishUrl()}/redfish/v1/AccountService/Accounts`,
    ]);
    expect(created.code, created.out).toBe(0);
    const id = store.userByName('tinker')?.id;
    expect(id).toBeDefined();
    expect(await ok(['user', 'list', '1'])).toMatch(new RegExp(`^${id}\\s+tinker\\s+.*OPERATOR$`, 'm'));
    const tinker = { user: 'tinker', password: 'tinker-secret' };
    // An Operator cannot open an Administrator session (ipmitool's default); it asks for Operator.
    expect((await ipmitool(['chassis', 'power', 'status'], tinker)).code).not.toBe(0);
    expect(await ok(['chassis', 'power', 'status'], { ...tinker, level: 'OPERATOR' })).toMatch(/Chassis Power is/);
  });

  it('lan print reports the advertised address and the stable MAC; lan set changes the store', async () => {
    const print = await ok(['lan', 'print', '1']);
    expect(print).toMatch(new RegExp(`IP Address\\s+: ${ADDRESS.replaceAll('.', '\\.')}`));
    expect(print).toMatch(new RegExp(`MAC Address\\s+: ${MAC}`));
    expect(print).toMatch(/RMCP\+ Cipher Suites\s+: 3,17/);
    await ok(['lan', 'set', '1', 'netmask', '255.255.0.0']);
    await ok(['lan', 'set', '1', 'defgw', 'ipaddr', '192.0.2.1']);
    await ok(['lan', 'set', '1', 'vlan', 'id', '42']);
    expect(store.state().lan).toMatchObject({ netmask: '255.255.0.0', gateway: '192.0.2.1', vlanId: 42 });
    await ok(['lan', 'set', '1', 'vlan', 'id', 'off']);
    expect(store.state().lan.vlanId).toBe(0);
    const again = await ok(['lan', 'print', '1']);
    expect(again).toMatch(/Subnet Mask\s+: 255\.255\.0\.0/);
    expect(again).toMatch(/Default Gateway IP\s+: 192\.0\.2\.1/);
    const nic = await redfishGet('/redfish/v1/Managers/1/EthernetInterfaces/1');
    expect(nic['MACAddress']).toBe(MAC);
    expect(nic['IPv4Addresses']).toEqual([
      { Address: ADDRESS, SubnetMask: '255.255.0.0', Gateway: '192.0.2.1', AddressOrigin: 'Static' },
    ]);
    // The advertised address cannot be moved over IPMI (the agent would not be reachable there).
    expect((await ipmitool(['lan', 'set', '1', 'ipaddr', '192.0.2.99'])).code).not.toBe(0);
    expect(store.state().lan.ipAddress).toBe(ADDRESS);
  });

  it('channel info/getaccess/setaccess/getciphers', async () => {
    expect(await ok(['channel', 'info', '1'])).toMatch(/Channel Medium Type\s+: 802\.3 LAN/);
    expect(await ok(['channel', 'getaccess', '1', '2'])).toMatch(/Privilege Level\s+: ADMINISTRATOR/);
    const ciphers = await ok(['channel', 'getciphers', 'ipmi', '1']);
    expect(ciphers).toMatch(/^3\s+N\/A\s+hmac_sha1\s+hmac_sha1_96\s+aes_cbc_128/m);
    expect(ciphers).toMatch(/^17\s+N\/A\s+hmac_sha256\s+sha256_128\s+aes_cbc_128/m);
  });

  it("the same commands answer over cipher suite 3 (freeipmi's default suite)", async () => {
    const c3 = { suite: 3 };
    expect(await ok(['chassis', 'status'], c3)).toMatch(/System Power\s+: (on|off)/);
    await ok(['chassis', 'bootdev', 'disk', 'options=efiboot'], c3);
    expect(machine.bootOverride()).toEqual({ target: 'Hdd', enabled: 'Once', mode: 'UEFI' });
    expect(await ok(['chassis', 'bootparam', 'get', '5'], c3)).toMatch(/Force Boot from default Hard-Drive/);
    expect(await ok(['lan', 'print', '1'], c3)).toMatch(new RegExp(`MAC Address\\s+: ${MAC}`));
    expect(await ok(['user', 'list', '1'], c3)).toMatch(/^2\s+admin\s+true\s+true\s+true\s+ADMINISTRATOR$/m);
    expect(await ok(['channel', 'getaccess', '1', '2'], c3)).toMatch(/ADMINISTRATOR/);
    expect(await ok(['sdr', 'list'], c3)).toMatch(/VM Memory/);
    expect(await ok(['fru', 'print'], c3)).toMatch(/QEMU Virtual Machine/);
    await ok(['chassis', 'bootdev', 'none'], c3);
  });

  it('sdr, sensor, sel and fru answer cleanly with the VM state', async () => {
    const sdr = await ok(['sdr', 'list']);
    expect(sdr).toMatch(/VM vCPUs\s+\| 2 unspecified\s+\| ok/);
    expect(sdr).toMatch(/Inlet Temp\s+\| 23 degrees C\s+\| ok/);
    expect(await ok(['sensor', 'list'])).toMatch(/Inlet Temp\s+\| 23\.000\s+\| degrees C/);
    expect(await ok(['sel', 'info'])).toMatch(/Entries\s+: [1-9]/);
    const fru = await ok(['fru', 'print']);
    expect(fru).toMatch(/Product Name\s+: QEMU Virtual Machine/);
    expect(fru).toMatch(new RegExp(`Product Serial\\s+: ${UUID.replaceAll('-', '').toUpperCase()}`));
  });
});

describe('freeipmi, as MAAS drives it', () => {
  it('bmc-info answers', async () => {
    const res = await tool('bmc-info', freeipmiArgs());
    expect(res.code, res.out).toBe(0);
    expect(res.out).toMatch(/IPMI Version\s+: 2\.0/);
    expect(res.out).toMatch(/Medium Type\s+: 802\.3 LAN/);
  });

  it('ipmipower --on/--off/--stat', async () => {
    await ok(['chassis', 'bootdev', 'none']); // power alone; the override case is the MAAS flow below
    const on = await tool('ipmipower', [...freeipmiArgs(), '--on']);
    expect(on.out, `code ${on.code}; ${handlerErrors.join('; ')}`).toMatch(/ok/);
    await powerBecomes('On');
    expect((await tool('ipmipower', [...freeipmiArgs(), '--stat'])).out).toMatch(/: on/);
    expect((await tool('ipmipower', [...freeipmiArgs(), '--off'])).out).toMatch(/ok/);
    await powerBecomes('Off');
    expect((await tool('ipmipower', [...freeipmiArgs(), '--stat'])).out).toMatch(/: off/);
  });

  it('ipmi-chassis-config --commit of the boot flags sets the override; --checkout reads it back', async () => {
    await ok(['chassis', 'bootdev', 'none']);
    const file = join(dir, 'boot.conf');
    await writeFile(
      file,
      'Section Chassis_Boot_Flags\n\tBoot_Flags_Persistent Yes\n\tBIOS_Boot_Type EFI\n\tBoot_Device PXE\nEndSection\n',
    );
    const commit = await tool('ipmi-chassis-config', [
      ...freeipmiArgs(),
      '-W',
      'opensesspriv',
      '--commit',
      '--filename',
      file,
    ]);
    expect(commit.code, commit.out).toBe(0);
    expect(machine.bootOverride()).toEqual({ target: 'Pxe', enabled: 'Continuous', mode: 'UEFI' });
    const checkout = await tool('ipmi-chassis-config', [...freeipmiArgs(), '--checkout', '-S', 'Chassis_Boot_Flags']);
    expect(checkout.out).toMatch(/Boot_Flags_Persistent\s+Yes/);
    expect(checkout.out).toMatch(/BIOS_Boot_Type\s+EFI/);
    expect(checkout.out).toMatch(/Boot_Device\s+PXE/);
  });

  it('MAAS power-on flow: PXE for the next boot only (ipmi-chassis-config), then ipmipower --on boots the VM', async () => {
    await tool('ipmipower', [...freeipmiArgs(), '--off']);
    await powerBecomes('Off');
    const file = join(dir, 'pxe-once.conf');
    await writeFile(file, 'Section Chassis_Boot_Flags\n\tBoot_Flags_Persistent No\n\tBoot_Device PXE\nEndSection\n');
    const commit = await tool('ipmi-chassis-config', [
      ...freeipmiArgs(),
      '-W',
      'opensesspriv',
      '--commit',
      '--filename',
      file,
    ]);
    expect(commit.code, commit.out).toBe(0);
    expect(machine.bootOverride()).toMatchObject({ target: 'Pxe', enabled: 'Once' });
    const on = await tool('ipmipower', [...freeipmiArgs(), '--on']);
    expect(on.out, handlerErrors.join('; ')).toMatch(/: ok/);
    await powerBecomes('On');
  });

  it("bmc-config --commit of MAAS's user keys creates a working user", async () => {
    for (const pair of [
      'User4:Username=maas4',
      'User4:Password=Xy7pQ2mN9kLw',
      'User4:Enable_User=Yes',
      'User4:Lan_Privilege_Limit=Administrator',
      'User4:Lan_Enable_IPMI_Msgs=Yes',
      'User4:Lan_Enable_Link_Auth=Yes',
    ]) {
      const res = await tool('bmc-config', [...freeipmiArgs(), '--commit', `--key-pair=${pair}`]);
      expect(res.code, `${pair}\n${res.out}`).toBe(0);
    }
    const checkout = await tool('bmc-config', [...freeipmiArgs(), '--checkout', '-S', 'Lan_Conf']);
    expect(checkout.out).toMatch(new RegExp(`IP_Address\\s+${ADDRESS.replaceAll('.', '\\.')}`));
    const stat = await tool('ipmipower', [...freeipmiArgs('maas4', 'Xy7pQ2mN9kLw'), '--stat']);
    expect(stat.out).toMatch(/: (on|off)/);
  });
});

describe('pyghmi', () => {
  it('powers the VM and sets the boot device (what Ironic-style Python tooling does)', async () => {
    const { python } = requirePythonPeers();
    await ok(['chassis', 'bootdev', 'none']); // start from no override, whatever earlier tests left
    const script = [
      'import json, sys',
      'from pyghmi.ipmi import command',
      `c = command.Command(bmc='127.0.0.1', port=${port}, userid='${ADMIN.user}', password='${ADMIN.password}')`,
      "c.set_power('on', wait=False)",
      "c.set_bootdev('network', persist=True, uefiboot=True)",
      "print(json.dumps({'bootdev': c.get_bootdev(), 'inventory': c.get_inventory_of_component('System')}))",
    ].join('\n');
    const res = await tool(python, ['-c', script]);
    expect(res.code, res.out).toBe(0);
    await powerBecomes('On');
    expect(machine.bootOverride()).toEqual({ target: 'Pxe', enabled: 'Continuous', mode: 'UEFI' });
    const printed = JSON.parse(res.out.trim().split('\n').at(-1) ?? '{}') as {
      bootdev: Record<string, unknown>;
      inventory: Record<string, unknown>;
    };
    expect(printed.bootdev).toEqual({ bootdev: 'network', persistent: true, uefimode: true });
    expect(printed.inventory['Product name']).toBe('QEMU Virtual Machine');
    expect(String(printed.inventory['UUID']).toLowerCase()).toBe(UUID);
    const off = await tool(python, [
      '-c',
      `from pyghmi.ipmi import command\nc = command.Command(bmc='127.0.0.1', port=${port}, userid='${ADMIN.user}', password='${ADMIN.password}')\nprint(c.set_power('off', wait=False))`,
    ]);
    expect(off.code, off.out).toBe(0);
    await powerBecomes('Off');
  });
});

describe('in-band: ipmitool in a guest through ipmi-bmc-extern + KCS, on the same table', () => {
  it("runs MAAS's user set-up and reads back LAN, boot and inventory (system interface, no session)", async () => {
    const script = [
      'ipmitool mc info | grep "IPMI Version"',
      'ipmitool user set name 5 maasib && echo name-ok',
      'ipmitool user set password 5 inband-pass-1 20 >/dev/null && echo password-ok',
      'ipmitool channel setaccess 1 5 callin=on ipmi=on link=on privilege=4 >/dev/null && echo access-ok',
      'ipmitool user enable 5 && echo enable-ok',
      'ipmitool lan print 1 | grep -E "^(IP Address|MAC Address) "',
      'ipmitool chassis bootdev pxe options=persistent >/dev/null && echo bootdev-ok',
      'ipmitool fru print | grep "Product Name"',
      'ipmitool user list | grep maasib',
    ].join('\n');
    const result = await runInGuest(script, {
      args: [
        '-chardev',
        `socket,id=ipmi0,host=127.0.0.1,port=${inband.port},reconnect=1`,
        '-device',
        'ipmi-bmc-extern,id=bmc0,chardev=ipmi0',
        '-device',
        'isa-ipmi-kcs,bmc=bmc0',
      ],
      timeoutMs: 240_000,
    });
    const out = result.output;
    expect(out).toMatch(/IPMI Version\s+: 2\.0/);
    for (const step of ['name-ok', 'password-ok', 'access-ok', 'enable-ok', 'bootdev-ok']) expect(out).toContain(step);
    expect(out).toMatch(new RegExp(`IP Address\\s+: ${ADDRESS.replaceAll('.', '\\.')}`));
    expect(out).toMatch(new RegExp(`MAC Address\\s+: ${MAC}`));
    expect(out).toMatch(/Product Name\s+: QEMU Virtual Machine/);
    expect(out).toMatch(/^5\s+maasib\s+true\s+true\s+true\s+ADMINISTRATOR$/m);
    expect(machine.bootOverride()).toMatchObject({ target: 'Pxe', enabled: 'Continuous' });
    // What was set in-band works over the LAN at once.
    expect(await ok(['mc', 'info'], { user: 'maasib', password: 'inband-pass-1' })).toMatch(/IPMI Version\s+: 2\.0/);
  });
});
