// The Redfish express app: middleware order, every resource, the 404 and error mapping. No listening here.
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { BmcStore } from '../bmc/types.ts';
import type { Machine } from '../machine/types.ts';
import { AccountRevisions } from './account-revisions.ts';
import { createRequireAuth } from './auth.ts';
import { DEFAULT_BODY_LIMIT, DEFAULT_MAX_SESSIONS, type RedfishConfig } from './config.ts';
import type { RedfishContext } from './context.ts';
import { DestinationPolicy } from './destination-policy.ts';
import { baseMessage, errorBody, missingAtUri, RedfishError } from './errors.ts';
import { EventHub } from './events.ts';
import { ODATA_HEADERS, rejectQueryOptions } from './http.ts';
import { createRedfishMetrics } from './metrics.ts';
import { accountServiceRoutes } from './resources/account-service.ts';
import { chassisRoutes } from './resources/chassis.ts';
import { eventServiceRoutes } from './resources/event-service.ts';
import { managerRoutes } from './resources/managers.ts';
import { serviceRootRoutes } from './resources/service-root.ts';
import { sessionServiceRoutes } from './resources/session-service.ts';
import { systemRoutes } from './resources/systems.ts';
import type { RedfishPrivilege } from './roles.ts';
import { SessionTable } from './sessions.ts';
import { type DeliveryOptions, SubscriptionTable } from './subscriptions.ts';

export interface RedfishDeps {
  config: RedfishConfig;
  log: Logger;
  registry: Registry;
  machine: Machine;
  store: BmcStore;
  onManagerReset?: () => Promise<void>;
  /** Clock for session idle timeouts (tests move it forward). */
  now?: () => number;
  /** Push-subscription delivery tuning (tests shorten the retry interval). */
  eventDelivery?: DeliveryOptions;
  /** Serve `registry` at /metrics, behind the same authentication as Redfish (any role). */
  serveMetrics?: boolean;
}

export interface RedfishApp {
  app: Express;
  /** Auth for routers mounted later (console, metrics): same users, sessions and 401/403 bodies. */
  requireAuth: (privilege?: RedfishPrivilege) => RequestHandler;
  context: RedfishContext;
  /** Ends SSE streams and stops listening to the machine. */
  close(): void;
}

function bodyParserError(err: unknown): RedfishError | undefined {
  if (typeof err !== 'object' || err === null || !('type' in err)) return undefined;
  switch (err.type) {
    case 'entity.too.large':
      return new RedfishError(413, baseMessage('PayloadTooLarge'), { Connection: 'close' });
    case 'request.aborted':
    case 'request.size.invalid':
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new RedfishError(400, baseMessage('UnrecognizedRequestBody'));
    default:
      return undefined;
  }
}

export function createRedfishApp(deps: RedfishDeps): RedfishApp {
  const { config, log } = deps;
  const sessions = new SessionTable({
    timeoutSec: config.sessionTimeoutSec,
    max: config.maxSessions ?? DEFAULT_MAX_SESSIONS,
    ...(deps.now ? { now: deps.now } : {}),
  });
  const metrics = createRedfishMetrics(deps.registry, () => {
    sessions.purgeExpired();
    return sessions.size;
  });
  const events = new EventHub(deps.machine, log);
  const accountRevisions = new AccountRevisions(deps.store);
  const subscriptions = new SubscriptionTable(log, {
    max: 8,
    ...(deps.eventDelivery ? { delivery: deps.eventDelivery } : {}),
    policy: config.eventDestinations ? new DestinationPolicy(config.eventDestinations) : null,
    onResult: (result) => metrics.eventDeliveries.inc({ result }),
  });
  events.addSink((payload, messageId) => subscriptions.deliver(payload, messageId));
  const ctx: RedfishContext = {
    config,
    log,
    machine: deps.machine,
    store: deps.store,
    sessions,
    metrics,
    events,
    subscriptions,
    accountRevisions,
    listenPort: config.port,
  };
  if (deps.onManagerReset) ctx.onManagerReset = deps.onManagerReset;
  const requireAuth = createRequireAuth(deps.store, sessions);

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false); // resources carry their own ETags
  app.set('case sensitive routing', true);

  const observe: RequestHandler = (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const route = typeof res.locals.route === 'string' ? res.locals.route : 'unmatched';
      metrics.requests.inc({ method: req.method, route, status: String(res.statusCode) });
      log.debug(
        {
          method: req.method,
          url: req.originalUrl,
          route,
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
        },
        'redfish request',
      );
    });
    next();
  };

  const router = express.Router({ caseSensitive: true });
  // Only /redfish is ours: routers mounted later (console, metrics) keep their own rules.
  router.use('/redfish', observe, ODATA_HEADERS);
  router.use('/redfish', express.raw({ type: () => true, limit: config.bodyLimitBytes ?? DEFAULT_BODY_LIMIT }));
  router.use('/redfish', rejectQueryOptions);

  serviceRootRoutes(router, ctx, requireAuth);
  sessionServiceRoutes(router, ctx, requireAuth);
  accountServiceRoutes(router, ctx, requireAuth);
  systemRoutes(router, ctx, requireAuth);
  managerRoutes(router, ctx, requireAuth);
  chassisRoutes(router, ctx, requireAuth);
  eventServiceRoutes(router, ctx, requireAuth);

  if (deps.serveMetrics) {
    // Authenticated like every route but the service root and the OData documents: the values describe the BMC's
    // use (sessions, power actions, request rates), which is nobody else's business. ReadOnly suffices.
    router.get('/metrics', requireAuth('Login'), async (_req, res) => {
      res.set('Content-Type', deps.registry.contentType).send(await deps.registry.metrics());
    });
  }

  // Unknown URIs: authenticate first so anonymous clients cannot map the tree.
  router.use('/redfish', requireAuth('Login'), (req) => {
    throw missingAtUri(req.originalUrl.split('?')[0] ?? req.originalUrl);
  });

  const onError: ErrorRequestHandler = (err, req, res, _next) => {
    const known = err instanceof RedfishError ? err : bodyParserError(err);
    const failure = known ?? new RedfishError(500, baseMessage('InternalError'));
    if (!known) log.error({ err, method: req.method, url: req.originalUrl }, 'redfish handler failed');
    if (res.headersSent) {
      res.end();
      return;
    }
    res.set(failure.headers).setHeader('OData-Version', '4.0');
    res.status(failure.status).json(errorBody(failure.messages, failure.detail));
  };
  router.use(onError);
  app.use(router);

  return {
    app,
    requireAuth,
    context: ctx,
    close: () => {
      events.close();
      subscriptions.close();
      accountRevisions.close();
    },
  };
}
