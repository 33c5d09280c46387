// Every resource answers with schema-shaped JSON, links that resolve, and the machine's real values.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type Harness, startHarness } from './support.ts';

describe('Redfish resources', () => {
  let h: Harness;
  let port: number;
  beforeAll(async () => {
    h = await startHarness({ systemNicMacs: ['52:54:00:aa:bb:01', '52:54:00:aa:bb:02'] });
    port = h.server.port;
  });
  afterAll(() => h.close());
  const get = async (path: string) => {
    const r = await call(port, 'GET', path);
    expect(r.status, `${path}: ${r.text}`).toBe(200);
    return r.json;
  };

  it('ServiceRoot names the machine UUID, product, version and every service', async () => {
    const root = await get('/redfish/v1/');
    expect(root['@odata.id']).toBe('/redfish/v1/');
    expect(root['@odata.type']).toMatch(/^#ServiceRoot\.v1_\d+_\d+\.ServiceRoot$/);
    expect(root['@odata.context']).toBe('/redfish/v1/$metadata#ServiceRoot.ServiceRoot');
    expect(root.UUID).toBe(h.machine.info.uuid);
    expect(root.Product).toBe('qemu-bmc');
    expect(root.RedfishVersion).toMatch(/^\d+\.\d+\.\d+$/);
    expect(root.Links.Sessions['@odata.id']).toBe('/redfish/v1/SessionService/Sessions');
    for (const s of ['Systems', 'Managers', 'Chassis', 'SessionService', 'AccountService', 'EventService'])
      expect(root[s]['@odata.id']).toBe(`/redfish/v1/${s}`);
    expect(await get('/redfish')).toEqual({ v1: '/redfish/v1/' });
  });

  it('every link reachable from the service root resolves (crawl)', async () => {
    const seen = new Set<string>();
    const queue = ['/redfish/v1/'];
    const links = (v: unknown, out: string[]) => {
      if (Array.isArray(v)) for (const x of v) links(x, out);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (k === '@odata.id' && typeof x === 'string') out.push(x);
          else if (k === 'target' && typeof x === 'string') continue;
          else links(x, out);
        }
      }
    };
    for (let i = 0; i < 200 && queue.length > 0; i++) {
      const path = queue.shift() as string;
      if (seen.has(path)) continue;
      seen.add(path);
      const body = await get(path);
      expect(body['@odata.id'], path).toBe(path);
      expect(body['@odata.type'], path).toMatch(/^#\w+\.(v\d+_\d+_\d+\.)?\w+$/);
      const found: string[] = [];
      links(body, found);
      for (const l of found) if (!seen.has(l)) queue.push(l);
    }
    expect(queue).toEqual([]);
    expect([...seen]).toEqual(
      expect.arrayContaining([
        '/redfish/v1/Systems/1',
        '/redfish/v1/Systems/1/VirtualMedia/CD1',
        '/redfish/v1/Managers/1/EthernetInterfaces/1',
        '/redfish/v1/Managers/1/NetworkProtocol',
        '/redfish/v1/Managers/1/VirtualMedia/USB1',
        '/redfish/v1/Chassis/1',
        '/redfish/v1/AccountService/Roles/Administrator',
        '/redfish/v1/AccountService/Accounts/2',
        '/redfish/v1/EventService/Subscriptions',
      ]),
    );
  });

  it('Systems/1 shows power, boot override with allowable values, summaries, links and the Reset action', async () => {
    const sys = await get('/redfish/v1/Systems/1');
    expect(sys.UUID).toBe(h.machine.info.uuid);
    expect(sys.PowerState).toBe('Off');
    expect(sys.ProcessorSummary.Count).toBe(2);
    expect(sys.MemorySummary.TotalSystemMemoryGiB).toBe(1.5);
    expect(sys.Status).toEqual({ State: 'Enabled', Health: 'OK' });
    expect(sys.Boot.BootSourceOverrideTarget).toBe('None');
    expect(sys.Boot['BootSourceOverrideTarget@Redfish.AllowableValues']).toEqual([
      'None',
      'Pxe',
      'Cd',
      'Hdd',
      'BiosSetup',
      'Usb',
    ]);
    expect(sys.Boot['BootSourceOverrideEnabled@Redfish.AllowableValues']).toEqual(['Disabled', 'Once', 'Continuous']);
    expect(sys.Boot['BootSourceOverrideMode@Redfish.AllowableValues']).toEqual(['Legacy', 'UEFI']);
    expect(sys.Links.Chassis).toEqual([{ '@odata.id': '/redfish/v1/Chassis/1' }]);
    expect(sys.Links.ManagedBy).toEqual([{ '@odata.id': '/redfish/v1/Managers/1' }]);
    const reset = sys.Actions['#ComputerSystem.Reset'];
    expect(reset.target).toBe('/redfish/v1/Systems/1/Actions/ComputerSystem.Reset');
    expect(reset['ResetType@Redfish.AllowableValues']).toContain('GracefulShutdown');
    const coll = await get('/redfish/v1/Systems');
    expect(coll['Members@odata.count']).toBe(1);
  });

  it('Reset drives the machine and PowerState follows it', async () => {
    for (const [type, power] of [
      ['On', 'On'],
      ['ForceOff', 'Off'],
      ['PowerCycle', 'On'],
      ['GracefulShutdown', 'Off'],
    ] as const) {
      const r = await call(port, 'POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', {
        body: { ResetType: type },
      });
      expect(r.status).toBe(204);
      expect((await get('/redfish/v1/Systems/1')).PowerState).toBe(power);
      expect((await get('/redfish/v1/Chassis/1')).PowerState).toBe(power);
    }
    expect(h.machine.resets).toEqual(['On', 'ForceOff', 'PowerCycle', 'GracefulShutdown']);
  });

  it('PATCH Boot sets the override on the machine and returns the new representation', async () => {
    const r = await call(port, 'PATCH', '/redfish/v1/Systems/1', {
      body: { Boot: { BootSourceOverrideEnabled: 'Once', BootSourceOverrideTarget: 'Pxe' } },
    });
    expect(r.status).toBe(200);
    expect(r.json.Boot.BootSourceOverrideTarget).toBe('Pxe');
    expect(h.machine.boot).toEqual({ target: 'Pxe', enabled: 'Once', mode: 'Legacy' });
    const mode = await call(port, 'PATCH', '/redfish/v1/Systems/1', {
      body: { Boot: { BootSourceOverrideMode: 'UEFI' } },
    });
    expect(mode.json.Boot.BootSourceOverrideMode).toBe('UEFI');
    expect(h.machine.boot).toEqual({ target: 'Pxe', enabled: 'Once', mode: 'UEFI' });
  });

  it('Systems/1/EthernetInterfaces lists the VM NICs with their MACs', async () => {
    const coll = await get('/redfish/v1/Systems/1/EthernetInterfaces');
    expect(coll.Members).toEqual([
      { '@odata.id': '/redfish/v1/Systems/1/EthernetInterfaces/1' },
      { '@odata.id': '/redfish/v1/Systems/1/EthernetInterfaces/2' },
    ]);
    expect((await get('/redfish/v1/Systems/1/EthernetInterfaces/2')).MACAddress).toBe('52:54:00:aa:bb:02');
    expect((await call(port, 'GET', '/redfish/v1/Systems/1/EthernetInterfaces/3')).status).toBe(404);
    expect((await call(port, 'GET', '/redfish/v1/Systems/1/EthernetInterfaces/01')).status).toBe(404);
  });

  it('Managers/1 is the BMC with interfaces, protocols, virtual media and Manager.Reset', async () => {
    const mgr = await get('/redfish/v1/Managers/1');
    expect(mgr.ManagerType).toBe('BMC');
    expect(mgr.UUID).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(mgr.UUID).not.toBe(h.machine.info.uuid);
    expect(mgr.Links.ManagerForServers).toEqual([{ '@odata.id': '/redfish/v1/Systems/1' }]);
    expect(mgr.Actions['#Manager.Reset'].target).toBe('/redfish/v1/Managers/1/Actions/Manager.Reset');
    const nic = await get('/redfish/v1/Managers/1/EthernetInterfaces/1');
    expect(nic.IPv4Addresses).toEqual([
      { Address: '192.0.2.10', SubnetMask: '255.255.255.0', Gateway: '0.0.0.0', AddressOrigin: 'Static' },
    ]);
    expect(nic.MACAddress).toBe('52:54:00:12:34:56');
    const proto = await get('/redfish/v1/Managers/1/NetworkProtocol');
    expect(proto.HTTPS).toEqual({ ProtocolEnabled: true, Port: port });
    expect(proto.IPMI).toEqual({ ProtocolEnabled: true, Port: 623 });
    const vm = await get('/redfish/v1/Managers/1/VirtualMedia');
    expect(vm.Members).toEqual([
      { '@odata.id': '/redfish/v1/Managers/1/VirtualMedia/CD1' },
      { '@odata.id': '/redfish/v1/Managers/1/VirtualMedia/USB1' },
    ]);
    const usb = await get('/redfish/v1/Managers/1/VirtualMedia/USB1');
    expect(usb.MediaTypes).toEqual(['USBStick']);
  });

  it('Manager.Reset ends every session (Administrator only)', async () => {
    const login = await call(port, 'POST', '/redfish/v1/SessionService/Sessions', {
      auth: false,
      body: { UserName: 'admin', Password: 'password' },
    });
    const token = login.headers['x-auth-token'] as string;
    const op = await call(port, 'POST', '/redfish/v1/Managers/1/Actions/Manager.Reset', {
      auth: 'operator:oppass',
      body: { ResetType: 'GracefulRestart' },
    });
    expect(op.status).toBe(403);
    const bad = await call(port, 'POST', '/redfish/v1/Managers/1/Actions/Manager.Reset', { body: { ResetType: 'On' } });
    expect(bad.status).toBe(400);
    expect((await call(port, 'GET', '/redfish/v1/Systems/1', { token })).status).toBe(200);
    const r = await call(port, 'POST', '/redfish/v1/Managers/1/Actions/Manager.Reset', {
      body: { ResetType: 'GracefulRestart' },
    });
    expect(r.status).toBe(204);
    expect((await call(port, 'GET', '/redfish/v1/Systems/1', { token })).status).toBe(401);
  });

  it('Chassis/1 links the system and the manager', async () => {
    const ch = await get('/redfish/v1/Chassis/1');
    expect(ch.ChassisType).toBe('RackMount');
    expect(ch.Links.ComputerSystems).toEqual([{ '@odata.id': '/redfish/v1/Systems/1' }]);
    expect(ch.Links.ManagedBy).toEqual([{ '@odata.id': '/redfish/v1/Managers/1' }]);
    expect((await get('/redfish/v1/Chassis'))['Members@odata.count']).toBe(1);
  });

  it('EventService advertises its SSE URI; AccountService its accounts and roles', async () => {
    const ev = await get('/redfish/v1/EventService');
    expect(ev.ServerSentEventUri).toBe('/redfish/v1/EventService/SSE');
    const acc = await get('/redfish/v1/AccountService');
    expect(acc.Accounts['@odata.id']).toBe('/redfish/v1/AccountService/Accounts');
    const roles = await get('/redfish/v1/AccountService/Roles');
    expect(roles.Members.map((m: { '@odata.id': string }) => m['@odata.id'].split('/').pop())).toEqual([
      'Administrator',
      'Operator',
      'ReadOnly',
      'NoAccess',
    ]);
    const op = await get('/redfish/v1/AccountService/Roles/Operator');
    expect(op.AssignedPrivileges).toEqual(['Login', 'ConfigureSelf', 'ConfigureComponents']);
  });

  it('the OData service document and $metadata name the schemas used', async () => {
    const odata = await get('/redfish/v1/odata');
    expect(odata['@odata.context']).toBe('/redfish/v1/$metadata');
    expect(odata.value).toContainEqual({ name: 'Systems', kind: 'Singleton', url: '/redfish/v1/Systems' });
    const meta = await call(port, 'GET', '/redfish/v1/$metadata', { auth: false });
    expect(meta.headers['content-type']).toMatch(/^application\/xml/);
    const sys = await get('/redfish/v1/Systems/1');
    const version = /^#(ComputerSystem\.v\d+_\d+_\d+)\./.exec(sys['@odata.type'])?.[1];
    expect(meta.text).toContain(`<edmx:Include Namespace="${version}"/>`);
    expect(meta.text).toContain('http://redfish.dmtf.org/schemas/v1/ComputerSystem_v1.xml');
    expect(meta.text).toMatch(
      /<EntityContainer Name="Service" Extends="ServiceRoot\.v\d+_\d+_\d+\.ServiceContainer"\/>/,
    );
  });
});
