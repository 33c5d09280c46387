// Bad input gets the right status and a Base registry error body, and changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type Harness, messageIds, startHarness } from './support.ts';

const RESET = '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset';
const SYSTEM = '/redfish/v1/Systems/1';
const INSERT = '/redfish/v1/Managers/1/VirtualMedia/CD1/Actions/VirtualMedia.InsertMedia';

describe('Redfish bad input', () => {
  let h: Harness;
  let port: number;
  let before: string;
  beforeAll(async () => {
    h = await startHarness();
    port = h.server.port;
  });
  afterAll(() => h.close());

  const snapshot = () =>
    JSON.stringify({
      power: h.machine.power,
      boot: h.machine.boot,
      media: h.machine.mediaStates,
      resets: h.machine.resets,
      users: h.store.state().users,
    });

  const cases: Array<[string, string, string, unknown, number, string[]]> = [
    ['malformed JSON on an action', 'POST', RESET, '{"ResetType": "On"', 400, ['MalformedJSON']],
    ['malformed JSON on PATCH', 'PATCH', SYSTEM, '{Boot:', 400, ['MalformedJSON']],
    ['a JSON array instead of an object', 'PATCH', SYSTEM, '[1,2]', 400, ['UnrecognizedRequestBody']],
    ['an empty PATCH body', 'PATCH', SYSTEM, '', 400, ['UnrecognizedRequestBody']],
    ['an empty PATCH object', 'PATCH', SYSTEM, {}, 400, ['NoOperation']],
    ['unknown ResetType', 'POST', RESET, { ResetType: 'Explode' }, 400, ['ActionParameterValueNotInList']],
    ['ResetType of the wrong type', 'POST', RESET, { ResetType: 1 }, 400, ['ActionParameterValueTypeError']],
    ['missing ResetType', 'POST', RESET, {}, 400, ['ActionParameterMissing']],
    ['no body at all on Reset', 'POST', RESET, undefined, 400, ['ActionParameterMissing']],
    ['an unknown action parameter', 'POST', RESET, { ResetType: 'On', Force: true }, 400, ['ActionParameterUnknown']],
    ['an unknown property', 'PATCH', SYSTEM, { Frobnicate: 1 }, 400, ['PropertyUnknown']],
    ['an unknown nested property', 'PATCH', SYSTEM, { Boot: { Turbo: true } }, 400, ['PropertyUnknown']],
    ['a read-only property', 'PATCH', SYSTEM, { PowerState: 'On' }, 400, ['PropertyNotWritable']],
    ['Boot of the wrong type', 'PATCH', SYSTEM, { Boot: 'Pxe' }, 400, ['PropertyValueTypeError']],
    [
      'a boot target of the wrong type',
      'PATCH',
      SYSTEM,
      { Boot: { BootSourceOverrideTarget: 5 } },
      400,
      ['PropertyValueTypeError'],
    ],
    [
      'a boot target not in the list',
      'PATCH',
      SYSTEM,
      { Boot: { BootSourceOverrideTarget: 'Floppy' } },
      400,
      ['PropertyValueNotInList'],
    ],
    [
      'several problems at once (all reported, none applied)',
      'PATCH',
      SYSTEM,
      { Boot: { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Sometimes' }, Nope: 1 },
      400,
      ['PropertyValueNotInList', 'PropertyUnknown'],
    ],
    ['InsertMedia without Image', 'POST', INSERT, { Inserted: true }, 400, ['ActionParameterMissing']],
    [
      'InsertMedia with a file: URL',
      'POST',
      INSERT,
      { Image: 'file:///etc/shadow' },
      400,
      ['ActionParameterValueFormatError'],
    ],
    ['InsertMedia with a non-URL', 'POST', INSERT, { Image: 'boot.iso' }, 400, ['ActionParameterValueFormatError']],
    [
      'InsertMedia with a protocol that contradicts the URL',
      'POST',
      INSERT,
      { Image: 'http://192.0.2.1/a.iso', TransferProtocolType: 'HTTPS' },
      400,
      ['ActionParameterValueConflict'],
    ],
    [
      'InsertMedia with an unsupported TransferProtocolType',
      'POST',
      INSERT,
      { Image: 'http://192.0.2.1/a.iso', TransferProtocolType: 'NFS' },
      400,
      ['ActionParameterValueNotInList'],
    ],
    [
      'InsertMedia with Inserted=false',
      'POST',
      INSERT,
      { Image: 'http://192.0.2.1/a.iso', Inserted: false },
      400,
      ['ActionParameterValueError'],
    ],
    [
      'InsertMedia with credentials',
      'POST',
      INSERT,
      { Image: 'http://192.0.2.1/a.iso', UserName: 'u', Password: 'p' },
      400,
      ['ActionParameterNotSupported'],
    ],
    [
      'a media id that does not exist',
      'POST',
      '/redfish/v1/Managers/1/VirtualMedia/Floppy1/Actions/VirtualMedia.InsertMedia',
      { Image: 'http://192.0.2.1/a.iso' },
      404,
      ['ResourceNotFound'],
    ],
    ['a system that does not exist', 'GET', '/redfish/v1/Systems/2', undefined, 404, ['ResourceNotFound']],
    [
      'an unknown $ query option',
      'GET',
      '/redfish/v1/Systems?$expand=*',
      undefined,
      501,
      ['QueryParameterUnsupported'],
    ],
  ];

  it.each(cases)('%s → %s %s: %i %j', async (_name, method, path, body, status, ids) => {
    before = snapshot();
    const r = await call(port, method, path, { body });
    expect(r.status, r.text).toBe(status);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.headers['odata-version']).toBe('4.0');
    expect(messageIds(r)).toEqual(ids);
    expect(r.json.error.code).toMatch(/^Base\.1\.\d+\.\d+\./);
    for (const info of r.json.error['@Message.ExtendedInfo']) {
      expect(info.Message).not.toMatch(/%\d/);
      expect(info.MessageSeverity).toMatch(/^(OK|Warning|Critical)$/);
    }
    expect(snapshot()).toBe(before);
  });

  it('answers a 1 MB body with 413 PayloadTooLarge and stays up', async () => {
    before = snapshot();
    const big = JSON.stringify({ ResetType: 'On', Pad: 'x'.repeat(1024 * 1024) });
    const r = await call(port, 'POST', RESET, { body: big });
    expect(r.status).toBe(413);
    expect(messageIds(r)).toEqual(['PayloadTooLarge']);
    expect(snapshot()).toBe(before);
    const alive = await call(port, 'GET', SYSTEM);
    expect(alive.status).toBe(200);
  });

  it('reports a machine that refuses an action without changing state', async () => {
    const { MachineError } = await import('../../../bmc-agent/src/machine/types.ts');
    h.machine.failNextReset = new MachineError('unavailable', 'QMP is reconnecting');
    before = snapshot();
    const r = await call(port, 'POST', RESET, { body: { ResetType: 'On' } });
    expect(r.status).toBe(503);
    expect(r.headers['retry-after']).toBe('5');
    expect(messageIds(r)).toEqual(['ServiceTemporarilyUnavailable']);
    expect(r.json.error.message).toContain('QMP is reconnecting');
    expect(snapshot()).toBe(before);
    h.machine.failNextReset = new MachineError('conflict', 'a power action is in progress');
    const c = await call(port, 'POST', RESET, { body: { ResetType: 'On' } });
    expect(c.status).toBe(409);
    expect(messageIds(c)).toEqual(['ResourceInUse']);
  });
});
