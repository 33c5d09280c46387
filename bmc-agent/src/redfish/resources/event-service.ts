// EventService: Redfish events over server-sent events (no push subscriptions: nothing leaves the BMC).
import type { Router } from 'express';
import { link, odataMeta, type RedfishContext } from '../context.ts';
import { baseMessage, RedfishError } from '../errors.ts';
import { type AuthFor, route, sendResource } from '../http.ts';
import { odataType } from '../schemas/catalog.ts';

const SERVICE = '/redfish/v1/EventService';
export const SSE_URI = `${SERVICE}/SSE`;

export function eventServiceRoutes(router: Router, ctx: RedfishContext, authFor: AuthFor): void {
  route(
    router,
    SERVICE,
    {
      GET: {
        privilege: 'Login',
        handle: (req, res) =>
          sendResource(req, res, {
            ...odataMeta(SERVICE, odataType('EventService')),
            Id: 'EventService',
            Name: 'Event Service',
            ServiceEnabled: true,
            ServerSentEventUri: SSE_URI,
            EventFormatTypes: ['Event'],
            RegistryPrefixes: ['ResourceEvent'],
            DeliveryRetryAttempts: 0,
            DeliveryRetryIntervalSeconds: 0,
            Subscriptions: link(`${SERVICE}/Subscriptions`),
            Status: { State: 'Enabled', Health: 'OK' },
          }),
      },
    },
    authFor,
  );
  route(
    router,
    `${SERVICE}/Subscriptions`,
    {
      GET: {
        privilege: 'Login',
        handle: (req, res) =>
          sendResource(req, res, {
            ...odataMeta(`${SERVICE}/Subscriptions`, odataType('EventDestinationCollection')),
            Name: 'Event Subscriptions Collection',
            'Members@odata.count': 0,
            Members: [],
          }),
      },
    },
    authFor,
  );
  route(
    router,
    SSE_URI,
    {
      GET: {
        privilege: 'Login',
        handle: (req, res) => {
          // HEAD only asks whether the stream exists; it must not hold a connection open.
          if (req.method === 'HEAD') {
            res.status(200).type('text/event-stream').end();
            return;
          }
          if (!ctx.events.attach(res))
            throw new RedfishError(503, baseMessage('ServiceTemporarilyUnavailable', ['30']), { 'Retry-After': '30' });
        },
      },
    },
    authFor,
  );
}
