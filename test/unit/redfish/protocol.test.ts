// ETag / If-Match, 405 with Allow, HEAD, OData-Version: the HTTP rules every resource follows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type Harness, messageIds, startHarness } from './support.ts';

describe('Redfish protocol rules', () => {
  let h: Harness;
  let port: number;
  beforeAll(async () => {
    h = await startHarness();
    port = h.server.port;
  });
  afterAll(() => h.close());

  it('GET of a singleton carries an ETag that changes when the resource changes', async () => {
    const a = await call(port, 'GET', '/redfish/v1/Systems/1');
    const b = await call(port, 'GET', '/redfish/v1/Systems/1');
    expect(a.headers.etag).toMatch(/^W\/"[0-9a-f]+"$/);
    expect(b.headers.etag).toBe(a.headers.etag);
    await h.machine.reset('On');
    const c = await call(port, 'GET', '/redfish/v1/Systems/1');
    expect(c.headers.etag).not.toBe(a.headers.etag);
  });

  it('If-None-Match with the current ETag gives 304', async () => {
    const a = await call(port, 'GET', '/redfish/v1/Chassis/1');
    const b = await call(port, 'GET', '/redfish/v1/Chassis/1', {
      headers: { 'If-None-Match': a.headers.etag as string },
    });
    expect(b.status).toBe(304);
  });

  it('PATCH with a stale If-Match gets 412 PreconditionFailed and changes nothing', async () => {
    const stale = (await call(port, 'GET', '/redfish/v1/Systems/1')).headers.etag as string;
    await h.machine.setBootOverride({ target: 'Hdd' });
    const r = await call(port, 'PATCH', '/redfish/v1/Systems/1', {
      headers: { 'If-Match': stale },
      body: { Boot: { BootSourceOverrideTarget: 'Pxe' } },
    });
    expect(r.status).toBe(412);
    expect(messageIds(r)).toEqual(['PreconditionFailed']);
    expect(h.machine.boot.target).toBe('Hdd');
  });

  it('PATCH with the current If-Match (weak or strong form) or * is applied', async () => {
    const etag = (await call(port, 'GET', '/redfish/v1/Systems/1')).headers.etag as string;
    const r = await call(port, 'PATCH', '/redfish/v1/Systems/1', {
      headers: { 'If-Match': etag.replace(/^W\//, '') },
      body: { Boot: { BootSourceOverrideTarget: 'Cd' } },
    });
    expect(r.status).toBe(200);
    expect(h.machine.boot.target).toBe('Cd');
    expect(r.headers.etag).not.toBe(etag);
    const star = await call(port, 'PATCH', '/redfish/v1/Systems/1', {
      headers: { 'If-Match': '*' },
      body: { Boot: { BootSourceOverrideTarget: 'None' } },
    });
    expect(star.status).toBe(200);
  });

  it.each([
    ['PUT', '/redfish/v1/Systems/1', 'GET, PATCH, HEAD'],
    ['DELETE', '/redfish/v1/Systems/1', 'GET, PATCH, HEAD'],
    ['POST', '/redfish/v1/', 'GET, HEAD'],
    ['PATCH', '/redfish/v1/Managers/1', 'GET, HEAD'],
    ['GET', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', 'POST'],
    ['DELETE', '/redfish/v1/SessionService/Sessions', 'GET, POST, HEAD'],
    ['POST', '/redfish/v1/Chassis', 'GET, HEAD'],
  ])('%s %s → 405 with Allow: %s', async (method, path, allow) => {
    const r = await call(port, method, path, { body: method === 'GET' ? undefined : {} });
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe(allow);
    expect(messageIds(r)).toEqual(['OperationNotAllowed']);
  });

  it('a 405 on a private URI asks for credentials first', async () => {
    const r = await call(port, 'PUT', '/redfish/v1/Systems/1', { auth: false, body: {} });
    expect(r.status).toBe(401);
  });

  it('HEAD answers like GET without a body', async () => {
    const r = await call(port, 'HEAD', '/redfish/v1/Systems/1');
    expect(r.status).toBe(200);
    expect(r.text).toBe('');
    expect(r.headers.etag).toMatch(/^W\//);
  });

  it('accepts a JSON body whatever Content-Type the client sent', async () => {
    const r = await call(port, 'POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: '{"ResetType":"ForceOff"}',
    });
    expect(r.status).toBe(204);
    expect(h.machine.power).toBe('Off');
  });

  it('accepts trailing slashes, as MAAS and Ironic send them', async () => {
    expect((await call(port, 'GET', '/redfish/v1/Systems/')).status).toBe(200);
    expect((await call(port, 'GET', '/redfish/v1/Systems/1/')).json.Id).toBe('1');
    const login = await call(port, 'POST', '/redfish/v1/SessionService/Sessions/', {
      auth: false,
      body: { UserName: 'admin', Password: 'password' },
    });
    expect(login.status).toBe(201);
  });

  it('treats URIs as case-sensitive', async () => {
    const r = await call(port, 'GET', '/redfish/v1/systems/1');
    expect(r.status).toBe(404);
    expect(messageIds(r)).toEqual(['ResourceMissingAtURI']);
  });

  it('HEAD of the SSE URI answers and closes', async () => {
    const r = await call(port, 'HEAD', '/redfish/v1/EventService/SSE');
    expect(r.status).toBe(200);
    expect(h.server.context.events.streamCount).toBe(0);
  });

  it('every GET carries Allow and a Link to its JSON schema', async () => {
    const r = await call(port, 'GET', '/redfish/v1/Systems/1');
    expect(r.headers.allow).toBe('GET, PATCH, HEAD');
    expect(r.headers.link).toMatch(
      /^<http:\/\/redfish\.dmtf\.org\/schemas\/v1\/ComputerSystem\.v1_\d+_\d+\.json>; rel=describedby$/,
    );
    const coll = await call(port, 'GET', '/redfish/v1/Systems');
    expect(coll.headers.link).toBe(
      '<http://redfish.dmtf.org/schemas/v1/ComputerSystemCollection.json>; rel=describedby',
    );
  });

  it('refuses an OData version other than 4.0 with 412', async () => {
    const r = await call(port, 'GET', '/redfish/v1/', { auth: false, headers: { 'OData-Version': '4.1' } });
    expect(r.status).toBe(412);
    expect(messageIds(r)).toEqual(['HeaderInvalid']);
    expect((await call(port, 'GET', '/redfish/v1/', { auth: false, headers: { 'OData-Version': '4.0' } })).status).toBe(
      200,
    );
  });

  it('answers a method Node does not know with 501 and a Redfish body', async () => {
    const r = await call(port, 'FAKEMETHOD', '/redfish/v1/');
    expect(r.status).toBe(501);
    expect(messageIds(r)).toEqual(['OperationNotAllowed']);
    expect((await call(port, 'GET', '/redfish/v1/')).status).toBe(200);
  });

  it("POST to a collection's Members is the same as POST to the collection", async () => {
    const r = await call(port, 'POST', '/redfish/v1/SessionService/Sessions/Members', {
      auth: false,
      body: { UserName: 'admin', Password: 'password' },
    });
    expect(r.status).toBe(201);
    expect(r.headers.location).toMatch(/^\/redfish\/v1\/SessionService\/Sessions\/[0-9a-f-]{36}$/);
  });

  it('two PATCHes with the same If-Match: only the first is applied', async () => {
    const etag = (await call(port, 'GET', '/redfish/v1/AccountService/Accounts/3')).headers.etag as string;
    const results = await Promise.all(
      ['pw-one', 'pw-two', 'pw-three'].map((Password) =>
        call(port, 'PATCH', '/redfish/v1/AccountService/Accounts/3', {
          headers: { 'If-Match': etag },
          body: { Password },
        }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 412, 412]);
    // A password change is invisible in the body, yet the ETag moved.
    expect((await call(port, 'GET', '/redfish/v1/AccountService/Accounts/3')).headers.etag).not.toBe(etag);
    await h.store.update((d) => {
      const u = d.users.find((x) => x.id === 3);
      if (u) u.password = 'oppass';
    });
  });
});
