// SessionService: log in (POST Sessions → X-Auth-Token), list, inspect and end sessions; idle timeout.
import type { Response, Router } from 'express';
import { type Principal, principalOf } from '../auth.ts';
import { SESSION_TIMEOUT_MAX, SESSION_TIMEOUT_MIN } from '../config.ts';
import { link, odataMeta, type RedfishContext } from '../context.ts';
import { baseMessage, forbidden, notFound, RedfishError, unauthorized } from '../errors.ts';
import { type AuthFor, bodyObject, checkIfMatch, collectionRoute, route, sendResource } from '../http.ts';
import { hasPrivilege, roleOf } from '../roles.ts';
import { odataType } from '../schemas/catalog.ts';
import { type Session, SessionLimitError } from '../sessions.ts';
import { checkCreate, checkPatch, type FieldSpec } from '../validate.ts';

const SERVICE = '/redfish/v1/SessionService';
const SESSIONS = `${SERVICE}/Sessions`;

function serviceBody(ctx: RedfishContext): Record<string, unknown> {
  return {
    ...odataMeta(SERVICE, odataType('SessionService')),
    Id: 'SessionService',
    Name: 'Session Service',
    ServiceEnabled: true,
    SessionTimeout: ctx.sessions.timeoutSec,
    Sessions: link(SESSIONS),
    Status: { State: 'Enabled', Health: 'OK' },
  };
}

function sessionBody(s: Session): Record<string, unknown> {
  return {
    ...odataMeta(`${SESSIONS}/${s.id}`, odataType('Session')),
    Id: s.id,
    Name: 'User Session',
    UserName: s.userName,
    SessionType: 'Redfish',
    CreatedTime: s.created.toISOString(),
    Password: null,
  };
}

const canSee = (p: Principal, s: Session) => s.userId === p.userId || hasPrivilege(p.role, 'ConfigureManager');

function visibleSession(ctx: RedfishContext, res: Response, id: string): Session {
  const s = ctx.sessions.get(id);
  if (!s) throw notFound('Session', id);
  if (!canSee(principalOf(res), s)) throw forbidden();
  return s;
}

const LOGIN_FIELDS: Record<string, FieldSpec> = {
  UserName: { type: 'string', required: true },
  Password: { type: 'string', required: true },
  Context: { type: 'string', nullable: true },
};

export function sessionServiceRoutes(router: Router, ctx: RedfishContext, authFor: AuthFor): void {
  route(
    router,
    SERVICE,
    {
      GET: { privilege: 'Login', handle: (req, res) => sendResource(req, res, serviceBody(ctx)) },
      PATCH: {
        privilege: 'ConfigureManager',
        handle: (req, res) => {
          const current = serviceBody(ctx);
          checkIfMatch(req, current);
          const body = bodyObject(req) ?? {};
          checkPatch(
            body,
            { SessionTimeout: { type: 'integer', min: SESSION_TIMEOUT_MIN, max: SESSION_TIMEOUT_MAX } },
            current,
          );
          if (typeof body.SessionTimeout === 'number') ctx.sessions.timeoutSec = body.SessionTimeout;
          sendResource(req, res, serviceBody(ctx));
        },
      },
    },
    authFor,
  );

  collectionRoute(
    router,
    SESSIONS,
    {
      GET: {
        privilege: 'Login',
        handle: (req, res) => {
          const p = principalOf(res);
          const members = ctx.sessions.list().filter((s) => canSee(p, s));
          sendResource(req, res, {
            ...odataMeta(SESSIONS, odataType('SessionCollection')),
            Name: 'Session Collection',
            'Members@odata.count': members.length,
            Members: members.map((s) => link(`${SESSIONS}/${s.id}`)),
          });
        },
      },
      // Logging in needs no credentials other than the ones in the body.
      POST: {
        privilege: 'public',
        handle: (req, res) => {
          const body = bodyObject(req) ?? {};
          checkCreate(body, LOGIN_FIELDS);
          const name = body.UserName as string;
          const user = name === '' ? undefined : ctx.store.checkPassword(name, body.Password as string);
          if (!user || !roleOf(user)) {
            ctx.log.info({ user: name, ip: req.ip }, 'redfish login refused');
            throw unauthorized();
          }
          let session: Session;
          try {
            session = ctx.sessions.create(user.id, user.name);
          } catch (err) {
            if (err instanceof SessionLimitError) throw new RedfishError(503, baseMessage('SessionLimitExceeded'));
            throw err;
          }
          res.setHeader('X-Auth-Token', session.token);
          res.setHeader('Location', `${SESSIONS}/${session.id}`);
          sendResource(req, res, sessionBody(session), 201);
        },
      },
    },
    authFor,
  );

  route(
    router,
    `${SESSIONS}/:sessionId`,
    {
      GET: {
        privilege: 'Login',
        handle: (req, res) =>
          sendResource(req, res, sessionBody(visibleSession(ctx, res, String(req.params.sessionId)))),
      },
      DELETE: {
        privilege: 'Login',
        handle: (req, res) => {
          const s = visibleSession(ctx, res, String(req.params.sessionId));
          ctx.sessions.delete(s.id);
          res.status(204).end();
        },
      },
    },
    authFor,
  );
}
