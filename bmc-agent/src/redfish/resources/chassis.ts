// Chassis: the enclosure of the one system; its power state is the system's.
import type { Router } from 'express';
import { CHASSIS, link, MANAGER, odataMeta, type RedfishContext, SYSTEM } from '../context.ts';
import { notFound } from '../errors.ts';
import { type AuthFor, route, sendResource } from '../http.ts';
import { odataType } from '../schemas/catalog.ts';

export function chassisRoutes(router: Router, ctx: RedfishContext, authFor: AuthFor): void {
  route(
    router,
    '/redfish/v1/Chassis',
    {
      GET: {
        privilege: 'Login',
        handle: (req, res) =>
          sendResource(req, res, {
            ...odataMeta('/redfish/v1/Chassis', odataType('ChassisCollection')),
            Name: 'Chassis Collection',
            'Members@odata.count': 1,
            Members: [link(CHASSIS)],
          }),
      },
    },
    authFor,
  );
  route(
    router,
    '/redfish/v1/Chassis/:id',
    {
      GET: {
        privilege: 'Login',
        handle: (req, res) => {
          if (req.params.id !== '1') throw notFound('Chassis', String(req.params.id));
          sendResource(req, res, {
            ...odataMeta(CHASSIS, odataType('Chassis')),
            Id: '1',
            Name: 'Chassis',
            ChassisType: 'RackMount',
            Manufacturer: 'QEMU',
            Model: 'Standard PC',
            PowerState: ctx.machine.powerState(),
            Status: { State: 'Enabled', Health: 'OK' },
            Links: { ComputerSystems: [link(SYSTEM)], ManagedBy: [link(MANAGER)] },
          });
        },
      },
    },
    authFor,
  );
}
