import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BmcSeed } from '../../../bmc-agent/src/bmc/defaults.ts';
import { initialRestorePolicy, shouldPowerOnAtStart } from '../../../bmc-agent/src/bmc/restore-policy.ts';
import { CorruptStateError, FileBmcStore, STATE_FILE_NAME } from '../../../bmc-agent/src/bmc/store.ts';
import { Privilege } from '../../../bmc-agent/src/bmc/types.ts';

const seed: BmcSeed = {
  adminUser: 'admin',
  adminPassword: 'secret',
  address: '10.0.0.5',
  macAddress: '52:54:00:12:34:56',
  powerRestorePolicy: 'previous',
};

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bmc-store-'));
  path = join(dir, STATE_FILE_NAME);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('FileBmcStore', () => {
  it('creates defaults: user 1 anonymous disabled, user 2 the configured Administrator', async () => {
    const store = await FileBmcStore.open({ path, seed });
    const s = store.state();
    expect(s.users.map((u) => [u.id, u.name, u.enabled])).toEqual([
      [1, '', false],
      [2, 'admin', true],
    ]);
    expect(s.users[1]?.channels[1]?.privilege).toBe(Privilege.Administrator);
    expect(s.lan.ipAddress).toBe('10.0.0.5');
    expect(s.lan.macAddress).toBe('52:54:00:12:34:56');
    expect(s.powerRestorePolicy).toBe('previous');
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(s);
  });

  it('persists updates across reopen and applies IPMI_USER/IPMI_PASS to user 2 at each start', async () => {
    const store = await FileBmcStore.open({ path, seed });
    await store.update((d) => {
      d.users.push({
        id: 3,
        name: 'maas',
        password: 'pw3',
        enabled: true,
        channels: { 1: { privilege: 4, callin: true, linkAuth: true, ipmiMessaging: true } },
      });
      d.users[1]!.password = 'changed-in-band';
      d.powerRestorePolicy = 'always-on';
    });
    const reopened = await FileBmcStore.open({ path, seed: { ...seed, adminPassword: 'new', address: '10.0.0.9' } });
    expect(reopened.checkPassword('maas', 'pw3')?.id).toBe(3);
    expect(reopened.checkPassword('admin', 'changed-in-band')).toBeUndefined();
    expect(reopened.checkPassword('admin', 'new')?.id).toBe(2);
    expect(reopened.state().lan.ipAddress).toBe('10.0.0.9');
    expect(reopened.state().powerRestorePolicy).toBe('always-on');
  });

  it('gives IPMI_USER to user 2 at start even when another user had taken that name (the other is disabled)', async () => {
    const store = await FileBmcStore.open({ path, seed });
    await store.update((d) => {
      d.users.push({ id: 5, name: 'root', password: 'other', enabled: true, channels: {} });
    });
    const reopened = await FileBmcStore.open({ path, seed: { ...seed, adminUser: 'root', adminPassword: 'mine' } });
    expect(reopened.checkPassword('root', 'mine')?.id).toBe(2);
    expect(reopened.checkPassword('root', 'other')).toBeUndefined();
    expect(reopened.userById(5)?.enabled).toBe(false);
  });

  it('checks passwords exactly: prefix, longer, empty, disabled and unknown users fail', async () => {
    const store = await FileBmcStore.open({ path, seed });
    expect(store.checkPassword('admin', 'secret')?.id).toBe(2);
    for (const wrong of ['secre', 'secret1', '', 'SECRET']) expect(store.checkPassword('admin', wrong)).toBeUndefined();
    expect(store.checkPassword('nobody', 'secret')).toBeUndefined();
    expect(store.checkPassword('', '')).toBeUndefined(); // anonymous user is disabled
    await store.update((d) => {
      d.users[1]!.enabled = false;
    });
    expect(store.checkPassword('admin', 'secret')).toBeUndefined();
  });

  it('rejects an invalid update, a throwing mutator, and changes nothing (memory and disk)', async () => {
    const store = await FileBmcStore.open({ path, seed });
    const before = await readFile(path, 'utf8');
    await expect(
      store.update((d) => {
        d.users[1]!.password = 'x'.repeat(21);
      }),
    ).rejects.toThrow(/state.users\[1\].password: must be at most 20 bytes/);
    await expect(
      store.update((d) => {
        d.lan.ipAddress = '300.1.1.1';
      }),
    ).rejects.toThrow(/state.lan.ipAddress/);
    await expect(
      store.update(() => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await readFile(path, 'utf8')).toBe(before);
    expect(store.state().users[1]!.password).toBe('secret');
    // The queue keeps working after failures.
    await store.update((d) => {
      d.lan.vlanId = 7;
    });
    expect(store.state().lan.vlanId).toBe(7);
  });

  it('returns frozen state so callers cannot change it behind the store', async () => {
    const store = await FileBmcStore.open({ path, seed });
    expect(() => {
      (store.state().lan as { vlanId: number }).vlanId = 3;
    }).toThrow(TypeError);
  });

  it('serializes concurrent updates without losing any', async () => {
    const store = await FileBmcStore.open({ path, seed });
    const changes: number[] = [];
    store.on('change', (s) => changes.push(s.lan.vlanId));
    await Promise.all(
      Array.from({ length: 25 }, () =>
        store.update((d) => {
          d.lan.vlanId += 1;
        }),
      ),
    );
    expect(store.state().lan.vlanId).toBe(25);
    expect(changes).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(JSON.parse(await readFile(path, 'utf8')).lan.vlanId).toBe(25);
  });

  it('ignores and removes a temp file a crashed writer left behind', async () => {
    const store = await FileBmcStore.open({ path, seed });
    await store.update((d) => {
      d.lan.vlanId = 42;
    });
    await writeFile(`${path}.tmp-99999-1`, '{"version":1,"users":[{"id":'); // torn write
    const reopened = await FileBmcStore.open({ path, seed });
    expect(reopened.state().lan.vlanId).toBe(42);
    expect((await readdir(dir)).sort()).toEqual([STATE_FILE_NAME]);
  });

  for (const [what, content] of [
    ['not JSON', '{"version":1,'],
    ['an invalid field', JSON.stringify({ version: 1, users: 'nope' })],
    ['a future version', JSON.stringify({ version: 2 })],
  ] as const) {
    it(`keeps a corrupt file (${what}) aside and fails with a clear error`, async () => {
      await writeFile(path, content);
      const err = await FileBmcStore.open({ path, seed }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CorruptStateError);
      const keptAs = (err as CorruptStateError).keptAs;
      expect((err as Error).message).toContain(keptAs);
      expect(keptAs).toMatch(/bmc-state\.json\.corrupt-/);
      expect(await readFile(keptAs, 'utf8')).toBe(content);
      expect(await readdir(dir)).not.toContain(STATE_FILE_NAME);
    });
  }
});

describe('power restore policy', () => {
  it('POWER_ON_AT_START seeds a fresh state only', async () => {
    expect(initialRestorePolicy(true)).toBe('always-on');
    expect(initialRestorePolicy(false)).toBe('previous');
    const store = await FileBmcStore.open({ path, seed: { ...seed, powerRestorePolicy: initialRestorePolicy(true) } });
    await store.update((d) => {
      d.powerRestorePolicy = 'always-off'; // e.g. ipmitool chassis policy always-off
    });
    const reopened = await FileBmcStore.open({
      path,
      seed: { ...seed, powerRestorePolicy: initialRestorePolicy(true) },
    });
    expect(reopened.state().powerRestorePolicy).toBe('always-off');
  });

  it('decides power-on at start', () => {
    expect(shouldPowerOnAtStart('always-on', 'Off')).toBe(true);
    expect(shouldPowerOnAtStart('always-off', 'On')).toBe(false);
    expect(shouldPowerOnAtStart('previous', 'On')).toBe(true);
    expect(shouldPowerOnAtStart('previous', 'Off')).toBe(false);
  });
});
