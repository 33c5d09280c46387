// Arbitrary JSON at every writable endpoint: never a 5xx, always a Redfish error body on 4xx, and a refused
// request changes nothing.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type Harness, startHarness } from './support.ts';

const ENDPOINTS: Array<[string, string]> = [
  ['PATCH', '/redfish/v1/Systems/1'],
  ['POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset'],
  ['POST', '/redfish/v1/Managers/1/VirtualMedia/CD1/Actions/VirtualMedia.InsertMedia'],
  ['PATCH', '/redfish/v1/Managers/1/VirtualMedia/USB1'],
  ['POST', '/redfish/v1/AccountService/Accounts'],
  ['PATCH', '/redfish/v1/AccountService/Accounts/3'],
  ['PATCH', '/redfish/v1/SessionService'],
  ['POST', '/redfish/v1/SessionService/Sessions'],
];

describe('Redfish under arbitrary JSON', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  const snapshot = () =>
    JSON.stringify({
      power: h.machine.power,
      boot: h.machine.boot,
      media: h.machine.mediaStates,
      users: h.store.state().users,
      timeout: h.server.context.sessions.timeoutSec,
    });

  // Bodies shaped like the real ones (known keys, odd values) and plain random JSON.
  const keys = fc.constantFrom(
    'Boot',
    'ResetType',
    'Image',
    'Inserted',
    'UserName',
    'Password',
    'RoleId',
    'SessionTimeout',
    'Enabled',
    'x',
  );
  const body = fc.oneof(
    fc.dictionary(keys, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
    fc.jsonValue({ maxDepth: 3 }),
    fc.string({ maxLength: 40 }),
  );

  it('never answers 5xx; refusals are Redfish errors and change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ENDPOINTS), body, async ([method, path], b) => {
        const before = snapshot();
        const payload = typeof b === 'string' ? b : JSON.stringify(b);
        const r = await call(h.server.port, method, path, { body: payload });
        expect(r.status, `${method} ${path} ${payload} → ${r.text}`).toBeLessThan(500);
        if (r.status >= 400) {
          expect(r.json?.error?.['@Message.ExtendedInfo']?.length, r.text).toBeGreaterThan(0);
          expect(snapshot()).toBe(before);
        }
      }),
      { numRuns: 300 },
    );
    expect((await call(h.server.port, 'GET', '/redfish/v1/Systems/1')).status).toBe(200);
  });
});
