// Who is calling: an X-Auth-Token session or HTTP Basic credentials checked against the BMC user store.
import type { Request, RequestHandler, Response } from 'express';
import type { BmcStore } from '../bmc/types.ts';
import { forbidden, unauthorized } from './errors.ts';
import { hasPrivilege, type RedfishPrivilege, type RoleId, roleOf } from './roles.ts';
import type { SessionTable } from './sessions.ts';

export interface Principal {
  userId: number;
  userName: string;
  role: RoleId;
  /** Set when authenticated by a session token. */
  sessionId?: string;
}

function parseBasic(header: string): { name: string; password: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { name: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Reads one request header by (case-insensitive) name. */
export type HeaderGetter = (name: string) => string | undefined;

/** Credentials from raw headers: usable for WebSocket upgrades and other non-express requests. */
export function authenticateHeaders(get: HeaderGetter, store: BmcStore, sessions: SessionTable): Principal | undefined {
  const token = get('X-Auth-Token');
  if (token !== undefined) {
    const session = sessions.use(token);
    if (!session) return undefined;
    const user = store.userById(session.userId);
    const role = user && user.name === session.userName ? roleOf(user) : undefined;
    if (!user || !role) {
      // The account was removed, renamed or disabled since login: the session ends with it.
      sessions.delete(session.id);
      return undefined;
    }
    return { userId: user.id, userName: user.name, role, sessionId: session.id };
  }
  const authz = get('Authorization');
  if (authz === undefined) return undefined;
  const creds = parseBasic(authz);
  if (!creds || creds.name === '') return undefined;
  const user = store.checkPassword(creds.name, creds.password);
  const role = user ? roleOf(user) : undefined;
  if (!user || !role) return undefined;
  return { userId: user.id, userName: user.name, role };
}

export function authenticate(req: Request, store: BmcStore, sessions: SessionTable): Principal | undefined {
  return authenticateHeaders((name) => req.get(name), store, sessions);
}

export function principalOf(res: Response): Principal {
  const p = res.locals.principal as Principal | undefined;
  if (!p) throw new Error('route used principalOf without authentication');
  return p;
}

/** Middleware factory: 401 without valid credentials, 403 without the privilege. */
export function createRequireAuth(
  store: BmcStore,
  sessions: SessionTable,
): (privilege?: RedfishPrivilege) => RequestHandler {
  return (privilege = 'Login') =>
    (req, res, next) => {
      const principal = authenticate(req, store, sessions);
      if (!principal) throw unauthorized();
      if (!hasPrivilege(principal.role, privilege)) throw forbidden();
      res.locals.principal = principal;
      next();
    };
}
