// VirtualMedia under the Manager and the System: insert, eject, PATCH, and failures that say so.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type Harness, messageIds, startHarness } from './support.ts';

describe('Redfish virtual media', () => {
  let h: Harness;
  let port: number;
  beforeAll(async () => {
    h = await startHarness();
    port = h.server.port;
  });
  afterAll(() => h.close());

  it.each(['/redfish/v1/Managers/1', '/redfish/v1/Systems/1'])('InsertMedia / EjectMedia under %s', async (base) => {
    const cd = `${base}/VirtualMedia/CD1`;
    const ins = await call(port, 'POST', `${cd}/Actions/VirtualMedia.InsertMedia`, {
      body: {
        Image: 'http://192.0.2.1/images/boot.iso',
        Inserted: true,
        WriteProtected: true,
        TransferProtocolType: 'HTTP',
      },
    });
    expect(ins.status, ins.text).toBe(204);
    const after = await call(port, 'GET', cd);
    expect(after.json).toMatchObject({
      Image: 'http://192.0.2.1/images/boot.iso',
      ImageName: 'boot.iso',
      Inserted: true,
      WriteProtected: true,
      ConnectedVia: 'URI',
      TransferProtocolType: 'HTTP',
      MediaTypes: ['CD', 'DVD'],
    });
    // Both views show the same media.
    const other = base.includes('Managers') ? '/redfish/v1/Systems/1' : '/redfish/v1/Managers/1';
    expect((await call(port, 'GET', `${other}/VirtualMedia/CD1`)).json.Inserted).toBe(true);
    const ej = await call(port, 'POST', `${cd}/Actions/VirtualMedia.EjectMedia`);
    expect(ej.status).toBe(204);
    const gone = await call(port, 'GET', cd);
    expect(gone.json).toMatchObject({ Image: null, Inserted: false, ConnectedVia: 'NotConnected' });
  });

  it('the removable disk takes an https image; a request the machine refuses is a 400 with its reason', async () => {
    const usb = '/redfish/v1/Managers/1/VirtualMedia/USB1/Actions/VirtualMedia.InsertMedia';
    const r = await call(port, 'POST', usb, { body: { Image: 'https://192.0.2.1/disk.img' } });
    expect(r.status).toBe(204);
    expect(h.machine.mediaStates.find((m) => m.id === 'USB1')).toMatchObject({ inserted: true, writeProtected: true });
    await h.machine.ejectMedia('USB1');
    const rw = await call(port, 'POST', usb, { body: { Image: 'https://192.0.2.1/disk.img', WriteProtected: false } });
    expect(rw.status).toBe(400);
    expect(messageIds(rw)).toEqual(['ActionParameterValueError']);
    expect(rw.json.error.message).toContain('read-only');
    expect(rw.json.error['@Message.ExtendedInfo'][0].RelatedProperties).toEqual(['#/WriteProtected']);
    expect(h.machine.mediaStates.find((m) => m.id === 'USB1')?.inserted).toBe(false);
  });

  it('a failed insert is an error and never shows Inserted=true', async () => {
    const r = await call(port, 'POST', '/redfish/v1/Managers/1/VirtualMedia/CD1/Actions/VirtualMedia.InsertMedia', {
      body: { Image: 'http://unreachable.invalid/boot.iso' },
    });
    expect(r.status).toBe(400);
    expect(messageIds(r)).toEqual(['OperationFailed']);
    expect(r.json.error.message).toContain('connection refused');
    const cd = await call(port, 'GET', '/redfish/v1/Managers/1/VirtualMedia/CD1');
    expect(cd.json.Inserted).toBe(false);
    expect(cd.json.Status.Health).toBe('Warning');
    expect(cd.json.Status.Conditions[0].Message).toContain('connection refused');
  });

  it('PATCH Image inserts and PATCH Image null ejects', async () => {
    const cd = '/redfish/v1/Managers/1/VirtualMedia/CD1';
    const ins = await call(port, 'PATCH', cd, { body: { Image: 'http://192.0.2.1/x.iso', Inserted: true } });
    expect(ins.status).toBe(200);
    expect(ins.json.Inserted).toBe(true);
    const ej = await call(port, 'PATCH', cd, { body: { Image: null } });
    expect(ej.status).toBe(200);
    expect(ej.json.Inserted).toBe(false);
    const ro = await call(port, 'PATCH', cd, { body: { MediaTypes: ['CD'] } });
    expect(messageIds(ro)).toEqual(['PropertyNotWritable']);
  });

  it('ReadOnly users cannot insert media', async () => {
    const r = await call(port, 'POST', '/redfish/v1/Managers/1/VirtualMedia/CD1/Actions/VirtualMedia.InsertMedia', {
      auth: 'reader:readpass',
      body: { Image: 'http://192.0.2.1/x.iso' },
    });
    expect(r.status).toBe(403);
    expect(h.machine.mediaStates.find((m) => m.id === 'CD1')?.inserted).toBe(false);
  });
});
