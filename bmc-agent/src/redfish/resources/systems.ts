// ComputerSystem: power state, boot override and the Reset action, all through the one Machine.
import type { Router } from 'express';
import {
  BOOT_ENABLED,
  BOOT_MODES,
  BOOT_TARGETS,
  type BootOverride,
  RESET_TYPES,
  type ResetType,
} from '../../machine/types.ts';
import { CHASSIS, link, MANAGER, odataMeta, type RedfishContext, SYSTEM } from '../context.ts';
import { baseMessage, fromMachineError, notFound } from '../errors.ts';
import { type AuthFor, bodyObject, checkIfMatch, route, sendResource } from '../http.ts';
import { odataType } from '../schemas/catalog.ts';
import { checkAction, checkPatch, type FieldSpec } from '../validate.ts';
import { virtualMediaCollection, virtualMediaRoutes } from './virtual-media.ts';

const RESET_ACTION = 'ComputerSystem.Reset';

const BOOT_FIELDS: Record<string, FieldSpec> = {
  BootSourceOverrideTarget: { type: 'string', enum: BOOT_TARGETS },
  BootSourceOverrideEnabled: { type: 'string', enum: BOOT_ENABLED },
  BootSourceOverrideMode: { type: 'string', enum: BOOT_MODES },
};
const WRITABLE: Record<string, FieldSpec> = { Boot: { type: 'object', fields: BOOT_FIELDS } };

export function systemBody(ctx: RedfishContext): Record<string, unknown> {
  const { machine } = ctx;
  const boot = machine.bootOverride();
  return {
    ...odataMeta(SYSTEM, odataType('ComputerSystem')),
    Id: '1',
    Name: 'System',
    SystemType: 'Physical', // clients provision it like a server; that is the point of the emulation
    Manufacturer: 'QEMU',
    Model: 'Standard PC',
    UUID: machine.info.uuid,
    PowerState: machine.powerState(),
    Status: { State: 'Enabled', Health: 'OK' },
    ProcessorSummary: { Count: machine.info.cpus, LogicalProcessorCount: machine.info.cpus },
    MemorySummary: { TotalSystemMemoryGiB: Math.round((machine.info.memoryMiB / 1024) * 1000) / 1000 },
    Boot: {
      BootSourceOverrideTarget: boot.target,
      'BootSourceOverrideTarget@Redfish.AllowableValues': [...BOOT_TARGETS],
      BootSourceOverrideEnabled: boot.enabled,
      'BootSourceOverrideEnabled@Redfish.AllowableValues': [...BOOT_ENABLED],
      BootSourceOverrideMode: boot.mode,
      'BootSourceOverrideMode@Redfish.AllowableValues': [...BOOT_MODES],
    },
    VirtualMedia: link(`${SYSTEM}/VirtualMedia`),
    EthernetInterfaces: link(`${SYSTEM}/EthernetInterfaces`),
    Links: { Chassis: [link(CHASSIS)], ManagedBy: [link(MANAGER)] },
    Actions: {
      [`#${RESET_ACTION}`]: {
        target: `${SYSTEM}/Actions/${RESET_ACTION}`,
        'ResetType@Redfish.AllowableValues': [...RESET_TYPES],
      },
    },
  };
}

export function systemRoutes(router: Router, ctx: RedfishContext, authFor: AuthFor): void {
  route(
    router,
    '/redfish/v1/Systems',
    {
      GET: {
        privilege: 'Login',
        handle: (req, res) =>
          sendResource(req, res, {
            ...odataMeta('/redfish/v1/Systems', odataType('ComputerSystemCollection')),
            Name: 'Computer System Collection',
            'Members@odata.count': 1,
            Members: [link(SYSTEM)],
          }),
      },
    },
    authFor,
  );

  route(
    router,
    '/redfish/v1/Systems/:id',
    {
      GET: {
        privilege: 'Login',
        handle: (req, res) => {
          if (req.params.id !== '1') throw notFound('ComputerSystem', String(req.params.id));
          sendResource(req, res, systemBody(ctx));
        },
      },
      PATCH: {
        privilege: 'ConfigureComponents',
        handle: async (req, res) => {
          if (req.params.id !== '1') throw notFound('ComputerSystem', String(req.params.id));
          const current = systemBody(ctx);
          checkIfMatch(req, current);
          const body = bodyObject(req) ?? {};
          checkPatch(body, WRITABLE, current);
          const boot = body.Boot as Record<string, string> | undefined;
          if (boot) {
            const change: Partial<BootOverride> = {};
            if (boot.BootSourceOverrideTarget) change.target = boot.BootSourceOverrideTarget as BootOverride['target'];
            if (boot.BootSourceOverrideEnabled)
              change.enabled = boot.BootSourceOverrideEnabled as BootOverride['enabled'];
            if (boot.BootSourceOverrideMode) change.mode = boot.BootSourceOverrideMode as BootOverride['mode'];
            try {
              await ctx.machine.setBootOverride(change);
            } catch (err) {
              throw fromMachineError(err, baseMessage('PropertyValueIncorrect', ['Boot', JSON.stringify(boot)])) ?? err;
            }
          }
          sendResource(req, res, systemBody(ctx));
        },
      },
    },
    authFor,
  );

  route(
    router,
    `/redfish/v1/Systems/:id/Actions/${RESET_ACTION}`,
    {
      POST: {
        privilege: 'ConfigureComponents',
        handle: async (req, res) => {
          if (req.params.id !== '1') throw notFound('ComputerSystem', String(req.params.id));
          const params = checkAction(RESET_ACTION, bodyObject(req, { allowEmpty: true }), {
            ResetType: { type: 'string', enum: RESET_TYPES, required: true },
          });
          const type = params.ResetType as ResetType;
          try {
            await ctx.machine.reset(type);
            ctx.metrics.powerActions.inc({ type, result: 'ok' });
          } catch (err) {
            ctx.metrics.powerActions.inc({ type, result: 'error' });
            throw fromMachineError(err, baseMessage('ActionParameterValueError', ['ResetType', RESET_ACTION])) ?? err;
          }
          ctx.log.info({ type, user: res.locals.principal?.userName }, 'redfish reset');
          res.status(204).end();
        },
      },
    },
    authFor,
  );

  const nics = ctx.config.systemNicMacs ?? [];
  route(
    router,
    `${SYSTEM}/EthernetInterfaces`,
    {
      GET: {
        privilege: 'Login',
        handle: (req, res) =>
          sendResource(req, res, {
            ...odataMeta(`${SYSTEM}/EthernetInterfaces`, odataType('EthernetInterfaceCollection')),
            Name: 'System Ethernet Interface Collection',
            'Members@odata.count': nics.length,
            Members: nics.map((_, i) => link(`${SYSTEM}/EthernetInterfaces/${i + 1}`)),
          }),
      },
    },
    authFor,
  );
  route(
    router,
    `${SYSTEM}/EthernetInterfaces/:nic`,
    {
      GET: {
        privilege: 'Login',
        handle: (req, res) => {
          const raw = String(req.params.nic);
          const index = /^[1-9]\d{0,2}$/.test(raw) ? Number(raw) - 1 : -1;
          const mac = nics[index];
          if (mac === undefined) throw notFound('EthernetInterface', raw);
          sendResource(req, res, {
            ...odataMeta(`${SYSTEM}/EthernetInterfaces/${raw}`, odataType('EthernetInterface')),
            Id: raw,
            Name: `VM NIC ${raw}`,
            MACAddress: mac,
            PermanentMACAddress: mac,
            InterfaceEnabled: true,
            Status: { State: 'Enabled', Health: 'OK' },
          });
        },
      },
    },
    authFor,
  );

  virtualMediaCollection(router, authFor, SYSTEM);
  virtualMediaRoutes(router, ctx, authFor, SYSTEM);
}
