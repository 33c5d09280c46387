// EventService: Redfish events over server-sent events and pushed to subscribed destinations.
import type { Request, Router } from 'express';
import { link, odataMeta, type RedfishContext } from '../context.ts';
import { baseMessage, notFound, RedfishError } from '../errors.ts';
import { type AuthFor, bodyObject, collectionRoute, route, sendResource } from '../http.ts';
import { odataType } from '../schemas/catalog.ts';
import { DEFAULT_DELIVERY, type Subscription, SubscriptionLimitError } from '../subscriptions.ts';
import { checkCreate, type FieldSpec } from '../validate.ts';

const SERVICE = '/redfish/v1/EventService';
export const SSE_URI = `${SERVICE}/SSE`;
const SUBSCRIPTIONS = `${SERVICE}/Subscriptions`;

function destinationProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'only http and https destinations';
  if (url.username || url.password) return 'no credentials in the URL';
  return undefined;
}

const SUBSCRIPTION_FIELDS: Record<string, FieldSpec> = {
  Destination: { type: 'string', required: true, format: destinationProblem },
  Protocol: { type: 'string', required: true, enum: ['Redfish'] },
  Context: { type: 'string', nullable: true },
  EventFormatType: { type: 'string', enum: ['Event'] },
  SubscriptionType: { type: 'string', enum: ['RedfishEvent'] },
  RegistryPrefixes: { type: 'array', enum: ['ResourceEvent'] },
  VerifyCertificate: { type: 'boolean' },
};

function subscriptionBody(sub: Subscription): Record<string, unknown> {
  return {
    ...odataMeta(`${SUBSCRIPTIONS}/${sub.id}`, odataType('EventDestination')),
    Id: sub.id,
    Name: 'Event Subscription',
    Destination: sub.destination,
    Protocol: 'Redfish',
    Context: sub.context,
    EventFormatType: 'Event',
    SubscriptionType: 'RedfishEvent',
    RegistryPrefixes: sub.registryPrefixes,
    VerifyCertificate: sub.verifyCertificate,
  };
}

function subscriptionOf(ctx: RedfishContext, req: Request): Subscription {
  const id = String(req.params.subscriptionId);
  const sub = ctx.subscriptions.get(id);
  if (!sub) throw notFound('EventDestination', id);
  return sub;
}

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
            DeliveryRetryAttempts: DEFAULT_DELIVERY.attempts - 1,
            DeliveryRetryIntervalSeconds: DEFAULT_DELIVERY.retryIntervalMs / 1000,
            Subscriptions: link(SUBSCRIPTIONS),
            Status: { State: 'Enabled', Health: 'OK' },
          }),
      },
    },
    authFor,
  );
  collectionRoute(
    router,
    SUBSCRIPTIONS,
    {
      GET: {
        privilege: 'Login',
        handle: (req, res) => {
          const members = ctx.subscriptions.list();
          sendResource(req, res, {
            ...odataMeta(SUBSCRIPTIONS, odataType('EventDestinationCollection')),
            Name: 'Event Subscriptions Collection',
            'Members@odata.count': members.length,
            Members: members.map((s) => link(`${SUBSCRIPTIONS}/${s.id}`)),
          });
        },
      },
      POST: {
        privilege: 'ConfigureManager',
        handle: (req, res) => {
          const body = bodyObject(req) ?? {};
          checkCreate(body, SUBSCRIPTION_FIELDS);
          let sub: Subscription;
          try {
            sub = ctx.subscriptions.create({
              destination: body.Destination as string,
              context: typeof body.Context === 'string' ? body.Context : null,
              verifyCertificate: body.VerifyCertificate !== false,
              registryPrefixes: (body.RegistryPrefixes as string[] | undefined) ?? [],
            });
          } catch (err) {
            if (err instanceof SubscriptionLimitError)
              throw new RedfishError(400, baseMessage('EventSubscriptionLimitExceeded'));
            throw err;
          }
          ctx.log.info({ id: sub.id, destination: sub.destination }, 'event subscription created');
          res.setHeader('Location', `${SUBSCRIPTIONS}/${sub.id}`);
          sendResource(req, res, subscriptionBody(sub), 201);
        },
      },
    },
    authFor,
  );
  route(
    router,
    `${SUBSCRIPTIONS}/:subscriptionId`,
    {
      GET: {
        privilege: 'Login',
        handle: (req, res) => sendResource(req, res, subscriptionBody(subscriptionOf(ctx, req))),
      },
      DELETE: {
        privilege: 'ConfigureManager',
        handle: (req, res) => {
          ctx.subscriptions.delete(subscriptionOf(ctx, req).id);
          res.status(204).end();
        },
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
