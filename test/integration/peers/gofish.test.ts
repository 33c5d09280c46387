import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireGoDriver, runDriver } from '../../support/compat.ts';
import { type FakeRedfish, startFakeRedfish } from './fake-redfish.ts';

// Proves the gofish driver of the bed is real: built from test/compat/gofish, it connects over verified HTTPS to a
// tiny local Redfish service (self-signed certificate), logs in with a session, and reads and drives the system.

const user = 'admin';
const password = 'peer-secret';
let driver: string;
let redfish: FakeRedfish;

beforeAll(async () => {
  driver = requireGoDriver('gofish-driver');
  redfish = await startFakeRedfish(user, password);
});

afterAll(async () => {
  await redfish?.close();
});

const connection = (): string[] => ['-url', redfish.url, '-user', user, '-password', password];

describe('gofish driver', () => {
  it('reads the power state over HTTPS verified against the CA, with a Redfish session', async () => {
    const before = redfish.requests.length;
    const run = await runDriver(driver, [...connection(), '-ca-file', redfish.caFile, 'state']);
    expect(run.result).toMatchObject({ ok: true, system: 'vm-1', powerState: 'On' });
    expect(run.code).toBe(0);
    const seen = redfish.requests.slice(before);
    expect(seen.map((r) => `${r.method} ${r.path}`)).toContain('POST /redfish/v1/SessionService/Sessions');
    expect(seen.find((r) => r.path === '/redfish/v1/Systems/vm-1')?.auth).toBe('token');
    expect(seen.at(-1)?.method).toBe('DELETE'); // logs out
  });

  it('uses basic auth with -auth basic and skips verification only when asked (-insecure)', async () => {
    const before = redfish.requests.length;
    const run = await runDriver(driver, [...connection(), '-insecure', '-auth', 'basic', 'state']);
    expect(run.result).toMatchObject({ ok: true, powerState: 'On' });
    const seen = redfish.requests.slice(before);
    expect(seen.some((r) => r.path === '/redfish/v1/SessionService/Sessions')).toBe(false);
    expect(seen.find((r) => r.path === '/redfish/v1/Systems')?.auth).toBe('basic');
  });

  it('refuses the self-signed certificate without -ca-file or -insecure', async () => {
    const run = await runDriver(driver, [...connection(), 'state']);
    expect(run.code).toBe(1);
    expect(run.result.ok).toBe(false);
    expect(run.result.error).toMatch(/certificate/);
  });

  it('reports wrong credentials as a failure', async () => {
    const run = await runDriver(driver, [
      '-url',
      redfish.url,
      '-user',
      user,
      '-password',
      'wrong',
      '-insecure',
      'state',
    ]);
    expect(run.code).toBe(1);
    expect(run.result.ok).toBe(false);
  });

  it('powers off and on, sets a one-time PXE boot, inserts and ejects media', async () => {
    const tls = [...connection(), '-ca-file', redfish.caFile];
    expect((await runDriver(driver, [...tls, 'power', 'off'])).result).toMatchObject({
      ok: true,
      resetType: 'ForceOff',
    });
    expect((await runDriver(driver, [...tls, 'state'])).result).toMatchObject({ powerState: 'Off' });
    expect((await runDriver(driver, [...tls, 'power', 'on'])).result).toMatchObject({ ok: true, resetType: 'On' });
    expect(redfish.system.PowerState).toBe('On');

    expect((await runDriver(driver, [...tls, 'bootonce', 'pxe'])).result.ok).toBe(true);
    expect(redfish.system.Boot).toMatchObject({ BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once' });
    expect((await runDriver(driver, [...tls, 'state'])).result).toMatchObject({
      boot: { target: 'Pxe', enabled: 'Once' },
    });

    const image = 'http://127.0.0.1:8080/boot.iso';
    const insert = await runDriver(driver, [...tls, 'insertmedia', image]);
    expect(insert.result).toMatchObject({ ok: true, slot: '/redfish/v1/Systems/vm-1/VirtualMedia/Cd', image });
    expect(redfish.system.media.Image).toBe(image);
    expect((await runDriver(driver, [...tls, 'ejectmedia'])).result.ok).toBe(true);
    expect(redfish.system.media.Image).toBeNull();
  });

  it('rejects bad usage with exit code 2 and sends nothing', async () => {
    const before = redfish.requests.length;
    const run = await runDriver(driver, [...connection(), '-insecure', 'power', 'sideways']);
    expect(run.code).toBe(2);
    expect(run.result.error).toMatch(/sideways/);
    expect(redfish.requests.length).toBe(before);
  });
});
