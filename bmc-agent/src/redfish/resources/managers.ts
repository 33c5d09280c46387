// Manager (the BMC itself): its network interface, protocols, virtual media and Manager.Reset.
import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';
import type { Router } from 'express';
import { CHASSIS, link, MANAGER, odataMeta, type RedfishContext, SYSTEM } from '../context.ts';
import { notFound } from '../errors.ts';
import { type AuthFor, bodyObject, route, sendResource } from '../http.ts';
import { odataType } from '../schemas/catalog.ts';
import { checkAction } from '../validate.ts';
import { virtualMediaCollection, virtualMediaRoutes } from './virtual-media.ts';

const RESET_ACTION = 'Manager.Reset';
const MANAGER_RESET_TYPES = ['GracefulRestart', 'ForceRestart'] as const;
const MAC_PATTERN = /^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$/;

/** A stable UUID for the BMC, distinct from the system's but derived from it (name-based, v5 layout). */
export function managerUuid(systemUuid: string): string {
  const h = createHash('sha1').update(`qemu-bmc manager ${systemUuid}`).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function managerBody(ctx: RedfishContext): Record<string, unknown> {
  return {
    ...odataMeta(MANAGER, odataType('Manager')),
    Id: '1',
    Name: 'Manager',
    ManagerType: 'BMC',
    Manufacturer: 'qemu-bmc',
    Model: 'qemu-bmc',
    FirmwareVersion: ctx.config.firmwareVersion ?? '0.1.0',
    UUID: managerUuid(ctx.machine.info.uuid),
    ServiceEntryPointUUID: ctx.machine.info.uuid,
    PowerState: 'On',
    Status: { State: 'Enabled', Health: 'OK' },
    EthernetInterfaces: link(`${MANAGER}/EthernetInterfaces`),
    NetworkProtocol: link(`${MANAGER}/NetworkProtocol`),
    VirtualMedia: link(`${MANAGER}/VirtualMedia`),
    Links: {
      ManagerForServers: [link(SYSTEM)],
      ManagerForChassis: [link(CHASSIS)],
      ManagerInChassis: link(CHASSIS),
    },
    Actions: {
      [`#${RESET_ACTION}`]: {
        target: `${MANAGER}/Actions/${RESET_ACTION}`,
        'ResetType@Redfish.AllowableValues': [...MANAGER_RESET_TYPES],
      },
    },
  };
}

function ethernetBody(ctx: RedfishContext): Record<string, unknown> {
  const lan = ctx.store.state().lan;
  const address = ctx.config.bmcAddress || lan.ipAddress;
  const mac = ctx.config.macAddress || lan.macAddress;
  const body: Record<string, unknown> = {
    ...odataMeta(`${MANAGER}/EthernetInterfaces/1`, odataType('EthernetInterface')),
    Id: '1',
    Name: 'Manager Ethernet Interface',
    Description: 'Address at which clients reach this BMC',
    InterfaceEnabled: true,
    LinkStatus: 'LinkUp',
    Status: { State: 'Enabled', Health: 'OK' },
  };
  if (MAC_PATTERN.test(mac)) {
    body.MACAddress = mac.toLowerCase();
    body.PermanentMACAddress = mac.toLowerCase();
  }
  const origin = lan.ipSource === 'dhcp' ? 'DHCP' : 'Static';
  if (isIPv6(address))
    body.IPv6Addresses = [{ Address: address, AddressOrigin: origin === 'DHCP' ? 'DHCPv6' : 'Static' }];
  else if (address)
    body.IPv4Addresses = [{ Address: address, SubnetMask: lan.netmask, Gateway: lan.gateway, AddressOrigin: origin }];
  return body;
}

function networkProtocolBody(ctx: RedfishContext): Record<string, unknown> {
  const ipmi = ctx.config.ipmiPort;
  return {
    ...odataMeta(`${MANAGER}/NetworkProtocol`, odataType('ManagerNetworkProtocol')),
    Id: 'NetworkProtocol',
    Name: 'Manager Network Protocol',
    Status: { State: 'Enabled', Health: 'OK' },
    HTTPS: { ProtocolEnabled: true, Port: ctx.listenPort },
    HTTP: { ProtocolEnabled: false },
    IPMI: ipmi === undefined ? { ProtocolEnabled: false } : { ProtocolEnabled: true, Port: ipmi },
    SSH: { ProtocolEnabled: false },
  };
}

export function managerRoutes(router: Router, ctx: RedfishContext, authFor: AuthFor): void {
  route(
    router,
    '/redfish/v1/Managers',
    {
      GET: {
        privilege: 'Login',
        handle: (req, res) =>
          sendResource(req, res, {
            ...odataMeta('/redfish/v1/Managers', odataType('ManagerCollection')),
            Name: 'Manager Collection',
            'Members@odata.count': 1,
            Members: [link(MANAGER)],
          }),
      },
    },
    authFor,
  );
  route(
    router,
    '/redfish/v1/Managers/:id',
    {
      GET: {
        privilege: 'Login',
        handle: (req, res) => {
          if (req.params.id !== '1') throw notFound('Manager', String(req.params.id));
          sendResource(req, res, managerBody(ctx));
        },
      },
    },
    authFor,
  );
  route(
    router,
    `${MANAGER}/Actions/${RESET_ACTION}`,
    {
      POST: {
        privilege: 'ConfigureManager',
        handle: async (req, res) => {
          const p = checkAction(RESET_ACTION, bodyObject(req, { allowEmpty: true }), {
            ResetType: { type: 'string', enum: MANAGER_RESET_TYPES, required: true },
          });
          // The emulated BMC "restarts" by forgetting every session; the agent may do more.
          ctx.sessions.clear();
          await ctx.onManagerReset?.();
          ctx.log.info({ type: p.ResetType }, 'redfish manager reset');
          res.status(204).end();
        },
      },
    },
    authFor,
  );
  route(
    router,
    `${MANAGER}/EthernetInterfaces`,
    {
      GET: {
        privilege: 'Login',
        handle: (req, res) =>
          sendResource(req, res, {
            ...odataMeta(`${MANAGER}/EthernetInterfaces`, odataType('EthernetInterfaceCollection')),
            Name: 'Manager Ethernet Interface Collection',
            'Members@odata.count': 1,
            Members: [link(`${MANAGER}/EthernetInterfaces/1`)],
          }),
      },
    },
    authFor,
  );
  route(
    router,
    `${MANAGER}/EthernetInterfaces/:nic`,
    {
      GET: {
        privilege: 'Login',
        handle: (req, res) => {
          if (req.params.nic !== '1') throw notFound('EthernetInterface', String(req.params.nic));
          sendResource(req, res, ethernetBody(ctx));
        },
      },
    },
    authFor,
  );
  route(
    router,
    `${MANAGER}/NetworkProtocol`,
    { GET: { privilege: 'Login', handle: (req, res) => sendResource(req, res, networkProtocolBody(ctx)) } },
    authFor,
  );
  virtualMediaCollection(router, authFor, MANAGER);
  virtualMediaRoutes(router, ctx, authFor, MANAGER);
}
