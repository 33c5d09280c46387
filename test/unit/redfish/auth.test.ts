import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type Harness, messageIds, startHarness } from './support.ts';

describe('Redfish authentication and sessions', () => {
  let h: Harness;
  let port: number;
  beforeAll(async () => {
    h = await startHarness({ maxSessions: 3 });
    port = h.server.port;
  });
  afterAll(() => h.close());

  it.each(['/redfish', '/redfish/v1', '/redfish/v1/', '/redfish/v1/odata', '/redfish/v1/$metadata'])(
    '%s answers without credentials',
    async (path) => {
      const r = await call(port, 'GET', path, { auth: false });
      expect(r.status).toBe(200);
      expect(r.headers['odata-version']).toBe('4.0');
    },
  );

  it('refuses every other resource without credentials: 401, WWW-Authenticate, Redfish error body', async () => {
    for (const path of ['/redfish/v1/Systems', '/redfish/v1/Systems/1', '/redfish/v1/Managers/1', '/redfish/v1/Nope']) {
      const r = await call(port, 'GET', path, { auth: false });
      expect(r.status, path).toBe(401);
      expect(r.headers['www-authenticate']).toMatch(/^Basic realm=/);
      expect(messageIds(r)).toEqual(['NoValidSession']);
    }
  });

  it('refuses a wrong password, an unknown user, a disabled user and a garbled header', async () => {
    for (const auth of ['admin:wrong', 'nobody:password', 'sleeper:sleeppass', ':password']) {
      const r = await call(port, 'GET', '/redfish/v1/Systems/1', { auth });
      expect(r.status, auth).toBe(401);
      expect(messageIds(r)).toEqual(['NoValidSession']);
    }
    const garbled = await call(port, 'GET', '/redfish/v1/Systems/1', {
      auth: false,
      headers: { Authorization: 'Basic !!!' },
    });
    expect(garbled.status).toBe(401);
  });

  it('accepts Basic credentials of an enabled user', async () => {
    const r = await call(port, 'GET', '/redfish/v1/Systems/1');
    expect(r.status).toBe(200);
    expect(r.json.Id).toBe('1');
  });

  it('logs in with POST Sessions, uses the token, lists, reads and deletes the session', async () => {
    const login = await call(port, 'POST', '/redfish/v1/SessionService/Sessions', {
      auth: false,
      body: { UserName: 'admin', Password: 'password' },
    });
    expect(login.status).toBe(201);
    const token = login.headers['x-auth-token'] as string;
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    const location = login.headers.location as string;
    expect(location).toBe(`/redfish/v1/SessionService/Sessions/${login.json.Id}`);
    expect(login.json.UserName).toBe('admin');
    expect(login.json['@odata.type']).toMatch(/^#Session\.v1_\d+_\d+\.Session$/);

    const sys = await call(port, 'GET', '/redfish/v1/Systems/1', { token });
    expect(sys.status).toBe(200);
    const list = await call(port, 'GET', '/redfish/v1/SessionService/Sessions', { token });
    expect(list.json.Members).toContainEqual({ '@odata.id': location });
    const member = await call(port, 'GET', location, { token });
    expect(member.status).toBe(200);
    expect(member.json.Password).toBeNull();

    const del = await call(port, 'DELETE', location, { token });
    expect(del.status).toBe(204);
    const after = await call(port, 'GET', '/redfish/v1/Systems/1', { token });
    expect(after.status).toBe(401);
  });

  it('refuses a login with a wrong password and creates no session', async () => {
    const before = h.server.context.sessions.size;
    const r = await call(port, 'POST', '/redfish/v1/SessionService/Sessions', {
      auth: false,
      body: { UserName: 'admin', Password: 'nope' },
    });
    expect(r.status).toBe(401);
    expect(r.headers['x-auth-token']).toBeUndefined();
    expect(h.server.context.sessions.size).toBe(before);
  });

  it('rejects a login body with missing or mistyped fields', async () => {
    const missing = await call(port, 'POST', '/redfish/v1/SessionService/Sessions', {
      auth: false,
      body: { UserName: 'admin' },
    });
    expect(missing.status).toBe(400);
    expect(messageIds(missing)).toEqual(['PropertyMissing']);
    const typed = await call(port, 'POST', '/redfish/v1/SessionService/Sessions', {
      auth: false,
      body: { UserName: 'admin', Password: 7 },
    });
    expect(messageIds(typed)).toEqual(['PropertyValueTypeError']);
  });

  it('expires a session after the idle timeout', async () => {
    const login = await call(port, 'POST', '/redfish/v1/SessionService/Sessions', {
      auth: false,
      body: { UserName: 'operator', Password: 'oppass' },
    });
    expect(login.status, login.text).toBe(201);
    const token = login.headers['x-auth-token'] as string;
    h.advance(200_000); // within 300 s: still valid, and touched
    expect((await call(port, 'GET', '/redfish/v1/Systems/1', { token })).status).toBe(200);
    h.advance(200_000); // 200 s idle since the last use: still valid
    expect((await call(port, 'GET', '/redfish/v1/Systems/1', { token })).status).toBe(200);
    h.advance(301_000);
    const expired = await call(port, 'GET', '/redfish/v1/Systems/1', { token });
    expect(expired.status).toBe(401);
    expect(messageIds(expired)).toEqual(['NoValidSession']);
    expect((await call(port, 'GET', login.headers.location as string)).status).toBe(404);
  });

  it('enforces the session limit with SessionLimitExceeded', async () => {
    h.server.context.sessions.clear();
    const login = () =>
      call(port, 'POST', '/redfish/v1/SessionService/Sessions', {
        auth: false,
        body: { UserName: 'reader', Password: 'readpass' },
      });
    for (let i = 0; i < 3; i++) expect((await login()).status).toBe(201);
    const over = await login();
    expect(over.status).toBe(503);
    expect(messageIds(over)).toEqual(['SessionLimitExceeded']);
    h.server.context.sessions.clear();
  });

  it('shows a non-administrator only its own sessions and refuses deleting others', async () => {
    const mk = async (UserName: string, Password: string) => {
      const r = await call(port, 'POST', '/redfish/v1/SessionService/Sessions', {
        auth: false,
        body: { UserName, Password },
      });
      return { token: r.headers['x-auth-token'] as string, location: r.headers.location as string };
    };
    const admin = await mk('admin', 'password');
    const reader = await mk('reader', 'readpass');
    const seen = await call(port, 'GET', '/redfish/v1/SessionService/Sessions', { token: reader.token });
    expect(seen.json.Members).toEqual([{ '@odata.id': reader.location }]);
    const del = await call(port, 'DELETE', admin.location, { token: reader.token });
    expect(del.status).toBe(403);
    expect(messageIds(del)).toEqual(['InsufficientPrivilege']);
    expect((await call(port, 'GET', '/redfish/v1/Systems/1', { token: admin.token })).status).toBe(200);
    h.server.context.sessions.clear();
  });

  it('ends the sessions of a user who is disabled', async () => {
    const r = await call(port, 'POST', '/redfish/v1/SessionService/Sessions', {
      auth: false,
      body: { UserName: 'reader', Password: 'readpass' },
    });
    const token = r.headers['x-auth-token'] as string;
    await h.store.update((d) => {
      const u = d.users.find((x) => x.name === 'reader');
      if (u) u.enabled = false;
    });
    expect((await call(port, 'GET', '/redfish/v1/Systems/1', { token })).status).toBe(401);
    await h.store.update((d) => {
      const u = d.users.find((x) => x.name === 'reader');
      if (u) u.enabled = true;
    });
  });

  it('maps IPMI privilege to role: ReadOnly reads but cannot act, Operator acts but cannot manage users', async () => {
    const reset = (auth: string) =>
      call(port, 'POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', { auth, body: { ResetType: 'On' } });
    const ro = await reset('reader:readpass');
    expect(ro.status).toBe(403);
    expect(messageIds(ro)).toEqual(['InsufficientPrivilege']);
    expect(h.machine.resets).toEqual([]);
    expect((await call(port, 'GET', '/redfish/v1/Systems/1', { auth: 'reader:readpass' })).status).toBe(200);
    expect((await reset('operator:oppass')).status).toBe(204);
    expect(h.machine.resets).toEqual(['On']);
    const create = await call(port, 'POST', '/redfish/v1/AccountService/Accounts', {
      auth: 'operator:oppass',
      body: { UserName: 'x', Password: 'y', RoleId: 'ReadOnly' },
    });
    expect(create.status).toBe(403);
  });

  it('SessionService shows and changes the timeout (Administrator only, range checked)', async () => {
    const svc = await call(port, 'GET', '/redfish/v1/SessionService');
    expect(svc.json.SessionTimeout).toBe(300);
    expect(svc.json.Sessions).toEqual({ '@odata.id': '/redfish/v1/SessionService/Sessions' });
    const low = await call(port, 'PATCH', '/redfish/v1/SessionService', { body: { SessionTimeout: 5 } });
    expect(low.status).toBe(400);
    expect(messageIds(low)).toEqual(['PropertyValueOutOfRange']);
    const op = await call(port, 'PATCH', '/redfish/v1/SessionService', {
      auth: 'operator:oppass',
      body: { SessionTimeout: 600 },
    });
    expect(op.status).toBe(403);
    const ok = await call(port, 'PATCH', '/redfish/v1/SessionService', { body: { SessionTimeout: 600 } });
    expect(ok.status).toBe(200);
    expect(ok.json.SessionTimeout).toBe(600);
    await call(port, 'PATCH', '/redfish/v1/SessionService', { body: { SessionTimeout: 300 } });
  });
});
