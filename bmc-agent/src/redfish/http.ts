// HTTP plumbing shared by every resource: routes with 405/Allow, JSON bodies, ETags, Link, query rules.
import { createHash } from 'node:crypto';
import type { Request, RequestHandler, Response, Router } from 'express';
import { baseMessage, malformedJson, RedfishError } from './errors.ts';
import type { RedfishPrivilege } from './roles.ts';

export const METHODS = ['GET', 'PATCH', 'POST', 'PUT', 'DELETE'] as const;
export type Method = (typeof METHODS)[number];

export interface Endpoint {
  /** 'public' answers without credentials (service root, $metadata, login). */
  privilege: RedfishPrivilege | 'public';
  handle(req: Request, res: Response): Promise<void> | void;
}

export type Endpoints = Partial<Record<Method, Endpoint>>;

/** Builds the auth middleware for a privilege; supplied by the app so routes stay declarative. */
export type AuthFor = (privilege: RedfishPrivilege) => RequestHandler;

function runMiddleware(mw: RequestHandler, req: Request, res: Response): Promise<void> {
  return new Promise((resolve, reject) => {
    const result = mw(req, res, (err?: unknown) => (err ? reject(err) : resolve()));
    if (result instanceof Promise) result.catch(reject);
  });
}

/**
 * PATCHes run one at a time, so an If-Match check and the change it guards cannot interleave with another
 * PATCH (two clients holding the same ETag: the second gets 412). PATCHes are rare and quick.
 */
const patchQueues = new WeakMap<Router, Promise<unknown>>(); // one queue per app
function serialized<T>(router: Router, work: () => Promise<T>): Promise<T> {
  const run = (patchQueues.get(router) ?? Promise.resolve()).then(work, work);
  patchQueues.set(
    router,
    run.catch(() => undefined),
  );
  return run;
}

/** Mounts one URI: each listed method behind its privilege; any other method gets 405. Allow is always sent. */
export function route(router: Router, path: string, endpoints: Endpoints, authFor: AuthFor): void {
  const allowed = Object.keys(endpoints) as Method[];
  const allow = [...allowed, ...(endpoints.GET ? ['HEAD'] : [])].join(', ');
  router.all(path, async (req: Request, res: Response) => {
    res.locals.route = path;
    res.setHeader('Allow', allow);
    const method = (req.method === 'HEAD' ? 'GET' : req.method) as Method;
    const endpoint = endpoints[method];
    if (!endpoint) {
      // Unauthenticated clients learn nothing about private URIs, not even their methods.
      if (!Object.values(endpoints).some((e) => e.privilege === 'public'))
        await runMiddleware(authFor('Login'), req, res);
      throw new RedfishError(405, baseMessage('OperationNotAllowed'), { Allow: allow });
    }
    if (endpoint.privilege !== 'public') await runMiddleware(authFor(endpoint.privilege), req, res);
    if (method === 'PATCH') await serialized(router, async () => endpoint.handle(req, res));
    else await endpoint.handle(req, res);
  });
}

/** A collection that accepts POST: DSP0266 makes `POST <collection>/Members` the same request. */
export function collectionRoute(router: Router, path: string, endpoints: Endpoints, authFor: AuthFor): void {
  route(router, path, endpoints, authFor);
  if (endpoints.POST) route(router, `${path}/Members`, { POST: endpoints.POST }, authFor);
}

/**
 * Weak ETag of a representation: changes whenever any property changes. `version` covers state the
 * representation does not show (an account's password), so such a write changes the ETag too.
 */
export function etagOf(body: unknown, version = ''): string {
  const hash = createHash('sha256').update(JSON.stringify(body)).update(version).digest('hex');
  return `W/"${hash.slice(0, 20)}"`;
}

function stripWeak(tag: string): string {
  return tag.trim().replace(/^W\//, '');
}

/** DSP0266: GET and HEAD carry `Link: <json-schema>; rel=describedby` naming the resource's schema. */
export function describedBy(body: object): string | undefined {
  const type = (body as Record<string, unknown>)['@odata.type'];
  const m = typeof type === 'string' ? /^#([A-Za-z]+)(?:\.(v\d+_\d+_\d+))?\.[A-Za-z]+$/.exec(type) : null;
  if (!m) return undefined;
  const file = m[2] ? `${m[1]}.${m[2]}.json` : `${m[1]}.json`;
  return `<http://redfish.dmtf.org/schemas/v1/${file}>; rel=describedby`;
}

/** Sends a resource with its ETag and schema Link; answers 304 when If-None-Match already has it. */
export function sendResource(req: Request, res: Response, body: object, status = 200, version = ''): void {
  const etag = etagOf(body, version);
  res.setHeader('ETag', etag);
  const link = describedBy(body);
  if (link) res.setHeader('Link', link);
  const inm = req.get('If-None-Match');
  if (status === 200 && inm && inm.split(',').some((t) => stripWeak(t) === stripWeak(etag))) {
    res.status(304).end();
    return;
  }
  // Versioned (non-collection) resources also carry the ETag in the payload, as DSP0266 recommends.
  const versioned = /\.v\d+_\d+_\d+\./.test(String((body as Record<string, unknown>)['@odata.type'] ?? ''));
  res.status(status).json(versioned ? { ...body, '@odata.etag': etag } : body);
}

/** Rejects a write when If-Match is present and names another version of the resource. */
export function checkIfMatch(req: Request, current: object, version = ''): void {
  const header = req.get('If-Match');
  if (header === undefined) return;
  const tags = header.split(',').map((t) => t.trim());
  if (tags.includes('*')) return;
  const etag = stripWeak(etagOf(current, version));
  if (!tags.some((t) => stripWeak(t) === etag)) throw new RedfishError(412, baseMessage('PreconditionFailed'));
}

/** The request body as a JSON object; undefined when empty and allowed. */
export function bodyObject(req: Request, opts: { allowEmpty?: boolean } = {}): Record<string, unknown> | undefined {
  const raw: unknown = req.body;
  const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : '';
  if (text.trim() === '') {
    if (opts.allowEmpty) return undefined;
    throw new RedfishError(400, baseMessage('UnrecognizedRequestBody'));
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw malformedJson();
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new RedfishError(400, baseMessage('UnrecognizedRequestBody'));
  return parsed as Record<string, unknown>;
}

/** Query options we do not implement: DSP0266 asks for 501 rather than silently ignoring them. */
export const rejectQueryOptions: RequestHandler = (req, _res, next) => {
  for (const name of Object.keys(req.query)) {
    if (name.startsWith('$') || name === 'only' || name === 'excerpt')
      throw new RedfishError(501, baseMessage('QueryParameterUnsupported', [name]));
  }
  next();
};

export const ODATA_HEADERS: RequestHandler = (req, res, next) => {
  res.setHeader('OData-Version', '4.0');
  res.setHeader('Cache-Control', 'no-store');
  // A client asking for another OData version gets 412 (DSP0266, OData-Version request header).
  const asked = req.get('OData-Version');
  if (asked !== undefined && asked.trim() !== '4.0')
    throw new RedfishError(412, baseMessage('HeaderInvalid', [`OData-Version: ${asked}`]));
  next();
};
