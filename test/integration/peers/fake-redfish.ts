import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';

// A tiny Redfish service on loopback HTTPS, just enough for client drivers' smoke tests: ServiceRoot, sessions,
// one ComputerSystem with Reset and a boot override, one CD virtual media slot. It records every request so a test
// can check what a client really sent. Not a model of the agent: the agent's own tests cover Redfish.

export interface RecordedRequest {
  method: string;
  path: string;
  auth: 'basic' | 'token' | 'none';
  body: unknown;
}

export interface FakeRedfish {
  readonly url: string;
  /** PEM of the self-signed certificate, written to a file for -ca-file flags. */
  readonly caFile: string;
  readonly requests: RecordedRequest[];
  readonly system: { PowerState: 'On' | 'Off'; Boot: Record<string, string>; media: { Image: string | null } };
  close(): Promise<void>;
}

const systemPath = '/redfish/v1/Systems/vm-1';
const mediaPath = `${systemPath}/VirtualMedia/Cd`;

export async function startFakeRedfish(user: string, password: string): Promise<FakeRedfish> {
  const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    curve: 'P-256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
  const dir = mkdtempSync(join(tmpdir(), 'fake-redfish-'));
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, pems.cert);

  const sessions = new Map<string, string>(); // token -> session path
  const requests: RecordedRequest[] = [];
  const system: FakeRedfish['system'] = {
    PowerState: 'On',
    Boot: { BootSourceOverrideTarget: 'None', BootSourceOverrideEnabled: 'Disabled', BootSourceOverrideMode: 'UEFI' },
    media: { Image: null },
  };

  const authOf = (req: IncomingMessage): RecordedRequest['auth'] => {
    const token = req.headers['x-auth-token'];
    if (typeof token === 'string' && sessions.has(token)) return 'token';
    const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    return req.headers.authorization === expected ? 'basic' : 'none';
  };

  const route = (req: IncomingMessage, body: unknown): Reply => {
    const path = (req.url ?? '/').split('?')[0]?.replace(/\/$/, '') ?? '';
    const method = req.method ?? 'GET';
    const auth = authOf(req);
    requests.push({ method, path, auth, body });

    if (method === 'GET' && path === '/redfish/v1') return reply(200, serviceRoot());
    if (method === 'POST' && path === '/redfish/v1/SessionService/Sessions') {
      const { UserName, Password } = (body ?? {}) as { UserName?: string; Password?: string };
      if (UserName !== user || Password !== password) return reply(401, error('Invalid credentials'));
      const token = randomBytes(16).toString('hex');
      const location = `/redfish/v1/SessionService/Sessions/${sessions.size + 1}`;
      sessions.set(token, location);
      return reply(
        201,
        { '@odata.id': location, Id: String(sessions.size), UserName },
        {
          'X-Auth-Token': token,
          Location: location,
        },
      );
    }
    if (auth === 'none') return reply(401, error('Authentication required'));

    if (method === 'DELETE' && path.startsWith('/redfish/v1/SessionService/Sessions/')) {
      for (const [token, location] of sessions) if (location === path) sessions.delete(token);
      return reply(204);
    }
    if (method === 'GET' && path === '/redfish/v1/Systems') {
      return reply(200, {
        '@odata.id': '/redfish/v1/Systems',
        '@odata.type': '#ComputerSystemCollection.ComputerSystemCollection',
        Name: 'Computer System Collection',
        Members: [{ '@odata.id': systemPath }],
        'Members@odata.count': 1,
      });
    }
    if (method === 'GET' && path === systemPath) return reply(200, computerSystem(system));
    if (method === 'PATCH' && path === systemPath) {
      const boot = (body as { Boot?: Record<string, string> } | null)?.Boot;
      if (!boot) return reply(400, error('PATCH needs Boot'));
      Object.assign(system.Boot, boot);
      return reply(204);
    }
    if (method === 'POST' && path === `${systemPath}/Actions/ComputerSystem.Reset`) {
      const resetType = (body as { ResetType?: string } | null)?.ResetType;
      if (resetType === 'On' || resetType === 'ForceRestart') system.PowerState = 'On';
      else if (resetType === 'ForceOff') system.PowerState = 'Off';
      else return reply(400, error(`unsupported ResetType ${String(resetType)}`));
      return reply(204);
    }
    if (method === 'GET' && path === `${systemPath}/VirtualMedia`) {
      return reply(200, {
        '@odata.id': `${systemPath}/VirtualMedia`,
        Name: 'Virtual Media Collection',
        Members: [{ '@odata.id': mediaPath }],
        'Members@odata.count': 1,
      });
    }
    if (method === 'GET' && path === mediaPath) return reply(200, virtualMedia(system.media.Image));
    if (method === 'POST' && path === `${mediaPath}/Actions/VirtualMedia.InsertMedia`) {
      const image = (body as { Image?: string } | null)?.Image;
      if (typeof image !== 'string' || image === '') return reply(400, error('InsertMedia needs Image'));
      system.media.Image = image;
      return reply(204);
    }
    if (method === 'POST' && path === `${mediaPath}/Actions/VirtualMedia.EjectMedia`) {
      system.media.Image = null;
      return reply(204);
    }
    return reply(404, error(`no resource ${method} ${path}`));
  };

  const server: Server = createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = null;
      try {
        body = text === '' ? null : JSON.parse(text);
      } catch {
        res.writeHead(400, { 'Content-Type': 'application/json' }).end(JSON.stringify(error('malformed JSON')));
        return;
      }
      const { status, payload, headers } = route(req, body);
      res.writeHead(status, { 'Content-Type': 'application/json', 'OData-Version': '4.0', ...headers });
      res.end(payload === undefined ? undefined : JSON.stringify(payload));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fake Redfish: no TCP address');

  return {
    url: `https://127.0.0.1:${address.port}`,
    caFile,
    requests,
    system,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}

interface Reply {
  status: number;
  payload?: unknown;
  headers?: Record<string, string>;
}

function reply(status: number, payload?: unknown, headers: Record<string, string> = {}): Reply {
  return { status, payload, headers };
}

function serviceRoot(): unknown {
  return {
    '@odata.id': '/redfish/v1/',
    '@odata.type': '#ServiceRoot.v1_15_0.ServiceRoot',
    Id: 'RootService',
    Name: 'Root Service',
    RedfishVersion: '1.15.0',
    UUID: '00000000-0000-4000-8000-000000000001',
    Systems: { '@odata.id': '/redfish/v1/Systems' },
    SessionService: { '@odata.id': '/redfish/v1/SessionService' },
    Links: { Sessions: { '@odata.id': '/redfish/v1/SessionService/Sessions' } },
  };
}

function computerSystem(system: FakeRedfish['system']): unknown {
  return {
    '@odata.id': systemPath,
    '@odata.type': '#ComputerSystem.v1_20_0.ComputerSystem',
    Id: 'vm-1',
    Name: 'vm-1',
    SystemType: 'Virtual',
    PowerState: system.PowerState,
    Boot: {
      ...system.Boot,
      'BootSourceOverrideTarget@Redfish.AllowableValues': ['None', 'Pxe', 'Cd', 'Hdd'],
    },
    VirtualMedia: { '@odata.id': `${systemPath}/VirtualMedia` },
    Actions: {
      '#ComputerSystem.Reset': {
        target: `${systemPath}/Actions/ComputerSystem.Reset`,
        'ResetType@Redfish.AllowableValues': ['On', 'ForceOff', 'ForceRestart'],
      },
    },
  };
}

function virtualMedia(image: string | null): unknown {
  return {
    '@odata.id': mediaPath,
    '@odata.type': '#VirtualMedia.v1_6_0.VirtualMedia',
    Id: 'Cd',
    Name: 'Virtual CD',
    MediaTypes: ['CD', 'DVD'],
    Image: image,
    Inserted: image !== null,
    WriteProtected: true,
    ConnectedVia: image === null ? 'NotConnected' : 'URI',
    Actions: {
      '#VirtualMedia.InsertMedia': { target: `${mediaPath}/Actions/VirtualMedia.InsertMedia` },
      '#VirtualMedia.EjectMedia': { target: `${mediaPath}/Actions/VirtualMedia.EjectMedia` },
    },
  };
}

function error(message: string): unknown {
  return { error: { code: 'Base.1.0.GeneralError', message } };
}
