// AccountService over the real FileBmcStore: Redfish accounts are the IPMI users.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATE_FILE_NAME } from '../../../bmc-agent/src/bmc/store.ts';
import { call, type Harness, messageIds, startHarness } from './support.ts';

const ACCOUNTS = '/redfish/v1/AccountService/Accounts';

describe('Redfish AccountService', () => {
  let h: Harness;
  let port: number;
  beforeAll(async () => {
    h = await startHarness();
    port = h.server.port;
  });
  afterAll(() => h.close());
  const persisted = () => JSON.parse(readFileSync(join(h.stateDir, STATE_FILE_NAME), 'utf8'));

  it('lists the named user slots with roles from their LAN privilege', async () => {
    const list = await call(port, 'GET', ACCOUNTS);
    expect(list.json.Members.map((m: { '@odata.id': string }) => m['@odata.id'])).toEqual(
      [2, 3, 4, 5].map((id) => `${ACCOUNTS}/${id}`),
    );
    const roles = await Promise.all(
      [2, 3, 4, 5].map(async (id) => (await call(port, 'GET', `${ACCOUNTS}/${id}`)).json),
    );
    expect(roles.map((a) => [a.UserName, a.RoleId, a.Enabled])).toEqual([
      ['admin', 'Administrator', true],
      ['operator', 'Operator', true],
      ['reader', 'ReadOnly', true],
      ['sleeper', 'Administrator', false],
    ]);
    expect(roles[0].Password).toBeNull();
    expect(roles[0].Links.Role).toEqual({ '@odata.id': '/redfish/v1/AccountService/Roles/Administrator' });
  });

  it('shows a ReadOnly user only its own account', async () => {
    const list = await call(port, 'GET', ACCOUNTS, { auth: 'reader:readpass' });
    expect(list.json.Members).toEqual([{ '@odata.id': `${ACCOUNTS}/4` }]);
    expect((await call(port, 'GET', `${ACCOUNTS}/2`, { auth: 'reader:readpass' })).status).toBe(403);
  });

  it('creates an account in the first free slot; it works for Redfish at once and is persisted', async () => {
    const r = await call(port, 'POST', ACCOUNTS, {
      body: { UserName: 'maas', Password: 'secret-1', RoleId: 'Operator' },
    });
    expect(r.status, r.text).toBe(201);
    expect(r.headers.location).toBe(`${ACCOUNTS}/6`);
    expect(r.json).toMatchObject({ Id: '6', UserName: 'maas', RoleId: 'Operator', Enabled: true });
    const u = persisted().users.find((x: { id: number }) => x.id === 6);
    expect(u).toMatchObject({ name: 'maas', enabled: true });
    expect(u.channels['1'].privilege).toBe(3);
    const reset = await call(port, 'POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', {
      auth: 'maas:secret-1',
      body: { ResetType: 'On' },
    });
    expect(reset.status).toBe(204);
  });

  it('refuses a duplicate name, a bad name, a long password, an unknown role and missing fields', async () => {
    const before = JSON.stringify(h.store.state().users);
    const cases: Array<[unknown, number, string[]]> = [
      [{ UserName: 'maas', Password: 'x', RoleId: 'ReadOnly' }, 409, ['ResourceAlreadyExists']],
      [{ UserName: 'has:colon', Password: 'x', RoleId: 'ReadOnly' }, 400, ['PropertyValueFormatError']],
      [{ UserName: 'seventeen-chars-x', Password: 'x', RoleId: 'ReadOnly' }, 400, ['PropertyValueFormatError']],
      [{ UserName: 'ok', Password: 'x'.repeat(21), RoleId: 'ReadOnly' }, 400, ['PropertyValueFormatError']],
      [{ UserName: 'ok', Password: 'x', RoleId: 'God' }, 400, ['PropertyValueNotInList']],
      [{ UserName: 'ok' }, 400, ['PropertyMissing', 'PropertyMissing']],
      [{ UserName: 'ok', Password: 'x', RoleId: 'ReadOnly', Shell: '/bin/sh' }, 400, ['PropertyUnknown']],
    ];
    for (const [body, status, ids] of cases) {
      const r = await call(port, 'POST', ACCOUNTS, { body });
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(messageIds(r)).toEqual(ids);
    }
    expect(JSON.stringify(h.store.state().users)).toBe(before);
  });

  it('PATCH changes password, role and enabled; other sessions of the account end on a password change', async () => {
    const login = await call(port, 'POST', '/redfish/v1/SessionService/Sessions', {
      auth: false,
      body: { UserName: 'maas', Password: 'secret-1' },
    });
    const token = login.headers['x-auth-token'] as string;
    const r = await call(port, 'PATCH', `${ACCOUNTS}/6`, { body: { Password: 'secret-2', RoleId: 'ReadOnly' } });
    expect(r.status, r.text).toBe(200);
    expect(r.json.RoleId).toBe('ReadOnly');
    expect((await call(port, 'GET', '/redfish/v1/Systems/1', { token })).status).toBe(401);
    expect((await call(port, 'GET', '/redfish/v1/Systems/1', { auth: 'maas:secret-1' })).status).toBe(401);
    expect((await call(port, 'GET', '/redfish/v1/Systems/1', { auth: 'maas:secret-2' })).status).toBe(200);
    const dis = await call(port, 'PATCH', `${ACCOUNTS}/6`, { body: { Enabled: false } });
    expect(dis.json.Enabled).toBe(false);
    expect((await call(port, 'GET', '/redfish/v1/Systems/1', { auth: 'maas:secret-2' })).status).toBe(401);
    await call(port, 'PATCH', `${ACCOUNTS}/6`, { body: { Enabled: true } });
  });

  it('lets a user change only its own password without ConfigureUsers', async () => {
    const own = await call(port, 'PATCH', `${ACCOUNTS}/4`, {
      auth: 'reader:readpass',
      body: { Password: 'readpass2' },
    });
    expect(own.status).toBe(200);
    const role = await call(port, 'PATCH', `${ACCOUNTS}/4`, {
      auth: 'reader:readpass2',
      body: { RoleId: 'Administrator' },
    });
    expect(role.status).toBe(403);
    const other = await call(port, 'PATCH', `${ACCOUNTS}/3`, {
      auth: 'reader:readpass2',
      body: { Password: 'hijack' },
    });
    expect(other.status).toBe(403);
    expect(h.store.userById(4)?.channels[1]?.privilege).toBe(2);
  });

  it('never removes, disables or demotes the last enabled Administrator', async () => {
    const before = JSON.stringify(h.store.state().users);
    const demote = await call(port, 'PATCH', `${ACCOUNTS}/2`, { body: { RoleId: 'Operator' } });
    expect(demote.status).toBe(409);
    expect(messageIds(demote)).toEqual(['ResourceInUse']);
    expect((await call(port, 'DELETE', `${ACCOUNTS}/2`)).status).toBe(409);
    expect((await call(port, 'PATCH', `${ACCOUNTS}/2`, { body: { Enabled: false } })).status).toBe(409);
    expect(JSON.stringify(h.store.state().users)).toBe(before);
  });

  it('DELETE clears the slot; the name can no longer log in and the slot is reused', async () => {
    const del = await call(port, 'DELETE', `${ACCOUNTS}/6`);
    expect(del.status).toBe(204);
    expect((await call(port, 'GET', `${ACCOUNTS}/6`)).status).toBe(404);
    expect((await call(port, 'GET', '/redfish/v1/Systems/1', { auth: 'maas:secret-2' })).status).toBe(401);
    const again = await call(port, 'POST', ACCOUNTS, {
      body: { UserName: 'tink', Password: 'pw', RoleId: 'NoAccess' },
    });
    expect(again.headers.location).toBe(`${ACCOUNTS}/6`);
    // NoAccess accounts exist for IPMI but cannot use Redfish.
    expect((await call(port, 'GET', '/redfish/v1/Systems/1', { auth: 'tink:pw' })).status).toBe(401);
  });
});
