import { type ChildProcess, spawn } from 'node:child_process';
import { URL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireGoDriver, runDriver } from '../../support/compat.ts';
import { freePort } from '../../support/ports.ts';
import { requirePythonPeers } from '../../support/python.ts';
import { requireCommand } from '../../support/require.ts';
import { type FakeRedfish, startFakeRedfish } from './fake-redfish.ts';

// Proves the bmclib driver of the bed is real, through both providers Tinkerbell Rufio uses: ipmitool (IPMI over
// LAN, against pyghmi's fake BMC) and gofish (Redfish over verified HTTPS, against the tiny local service).

const user = 'admin';
let driver: string;
let redfish: FakeRedfish;
let fakeBmc: ChildProcess;
let ipmiPort: number;

beforeAll(async () => {
  driver = requireGoDriver('bmclib-driver');
  requireCommand('ipmitool');
  const peers = requirePythonPeers();
  redfish = await startFakeRedfish(user, 'redfish-secret');
  ipmiPort = await freePort('udp');
  // pyghmi's fake BMC has one fixed account: admin / password.
  fakeBmc = spawn(peers.bin('fakebmc'), ['--port', String(ipmiPort)], { stdio: 'ignore' });
});

afterAll(async () => {
  if (fakeBmc?.exitCode === null) fakeBmc.kill('SIGTERM');
  await redfish?.close();
});

describe('bmclib driver, ipmitool provider', () => {
  const ipmi = (): string[] => [
    '-host',
    '127.0.0.1',
    '-ipmi-port',
    String(ipmiPort),
    '-user',
    user,
    '-password',
    'password',
    '-provider',
    'ipmitool',
  ];

  it('reads the power state, powers on, and sets the boot device', async () => {
    // The fake BMC may still be binding its socket: a bounded number of tries.
    let state = await runDriver(driver, [...ipmi(), 'state']);
    for (let attempt = 0; attempt < 20 && !state.result.ok; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      state = await runDriver(driver, [...ipmi(), 'state']);
    }
    expect(state.result).toMatchObject({ ok: true, provider: 'ipmitool' });
    expect(String(state.result.powerState)).toMatch(/Chassis Power is off/);

    expect((await runDriver(driver, [...ipmi(), 'power', 'on'])).result).toMatchObject({ ok: true, power: 'on' });
    expect(String((await runDriver(driver, [...ipmi(), 'state'])).result.powerState)).toMatch(/Chassis Power is on/);
    const boot = await runDriver(driver, [...ipmi(), 'bootdevice', 'pxe']);
    expect(boot.result).toMatchObject({ ok: true, bootDevice: 'pxe', provider: 'ipmitool' });
  });

  it('fails on a wrong password', async () => {
    const args = ipmi();
    args[args.indexOf('password')] = 'wrong';
    const run = await runDriver(driver, [...args, '-timeout', '20s', 'state']);
    expect(run.code).toBe(1);
    expect(run.result.ok).toBe(false);
  });
});

describe('bmclib driver, gofish (Redfish) provider', () => {
  const redfishArgs = (): string[] => {
    const url = new URL(redfish.url);
    return [
      ...['-host', url.hostname, '-redfish-port', url.port, '-user', user, '-password', 'redfish-secret'],
      ...['-provider', 'gofish', '-ca-file', redfish.caFile],
    ];
  };

  it('reads the power state and powers the system off and on', async () => {
    const state = await runDriver(driver, [...redfishArgs(), 'state']);
    expect(state.result).toMatchObject({ ok: true, provider: 'gofish' });
    expect(String(state.result.powerState).toLowerCase()).toBe('on');

    expect((await runDriver(driver, [...redfishArgs(), 'power', 'off'])).result).toMatchObject({ ok: true });
    expect(redfish.system.PowerState).toBe('Off');
    expect((await runDriver(driver, [...redfishArgs(), 'power', 'on'])).result).toMatchObject({ ok: true });
    expect(redfish.system.PowerState).toBe('On');
  });

  it('sets a one-time PXE boot', async () => {
    const run = await runDriver(driver, [...redfishArgs(), 'bootdevice', 'pxe']);
    expect(run.result).toMatchObject({ ok: true, bootDevice: 'pxe' });
    expect(redfish.system.Boot).toMatchObject({ BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once' });
  });
});
