// A small JSON client for the apiserver (requests and watches) on a Connection from kube/config.ts, or on
// client-node's KubeConfig where the kubeconfig needs client-node. It exists so that every write is a server-side
// apply with our field manager, status goes to the status subresource, the operator can count its own writes, and
// the operator does not load client-node's generated API (~80 MiB of RSS).
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../api/names.ts';
import { API_VERSION, PLURAL } from '../api/types.ts';
import type { Connection } from './config.ts';
import type { KubeObject } from './objects.ts';

/** Identifies the operator's requests in apiserver audit logs. */
export const USER_AGENT = 'qemu-bmc-operator/0.1.0';

export class ApiError extends Error {
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.reason = reason;
  }
}

export const isNotFound = (err: unknown): boolean => err instanceof ApiError && err.status === 404;
export const isConflict = (err: unknown): boolean => err instanceof ApiError && err.status === 409;

const CORE_PLURALS: Record<string, string> = {
  Secret: 'secrets',
  Service: 'services',
  Pod: 'pods',
  PersistentVolumeClaim: 'persistentvolumeclaims',
};

/** Collection path of a kind in a namespace. */
export function collectionPath(apiVersion: string, kind: string, namespace: string): string {
  const ns = encodeURIComponent(namespace);
  const core = CORE_PLURALS[kind];
  if (apiVersion === 'v1' && core) return `/api/v1/namespaces/${ns}/${core}`;
  if (apiVersion === API_VERSION && kind === 'VirtualBMC') return `/apis/${API_VERSION}/namespaces/${ns}/${PLURAL}`;
  if (apiVersion === 'coordination.k8s.io/v1' && kind === 'Lease')
    return `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`;
  if (apiVersion === 'events.k8s.io/v1' && kind === 'Event') return `/apis/events.k8s.io/v1/namespaces/${ns}/events`;
  throw new Error(`no path known for ${apiVersion} ${kind}`);
}

export function objectPath(obj: KubeObject): string {
  if (!obj.metadata.namespace) throw new Error(`${obj.kind} ${obj.metadata.name} has no namespace`);
  return `${collectionPath(obj.apiVersion, obj.kind, obj.metadata.namespace)}/${encodeURIComponent(obj.metadata.name)}`;
}

function apiError(method: string, url: URL, status: number, body: unknown, text: string): ApiError {
  const s = (body ?? {}) as { message?: string; reason?: string };
  return new ApiError(
    status,
    s.reason ?? 'Unknown',
    `${method} ${url.pathname}: ${status} ${s.message ?? text.slice(0, 200)}`,
  );
}

export type WriteListener = (verb: string, kind: string) => void;

interface RequestOptions {
  body?: unknown;
  contentType?: string;
  query?: Record<string, string>;
}

/** What KubeClient needs of a client-node KubeConfig (a type only: whoever made it paid for importing client-node). */
export type KubeConfigLike = Pick<KubeConfig, 'getCurrentCluster' | 'applyToHTTPSOptions'>;

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** One event of a watch stream; ERROR carries a Status (410 Gone: the resourceVersion is too old). */
export interface WatchEvent {
  type: WatchEventType;
  object: KubeObject & { code?: number };
}

export interface WatchOptions {
  query: Record<string, string>;
  /** Client-side limit on silence; the server's timeoutSeconds should end the watch first. */
  idleTimeoutMs: number;
  onEvent: (event: WatchEvent) => void;
}

export interface Watching {
  /** Settles when the stream ends: resolves on a normal end (or stop()), rejects on HTTP or network errors. */
  done: Promise<void>;
  stop(): void;
}

interface Prepared {
  base: https.RequestOptions;
  headers: Record<string, string>;
}

export class KubeClient {
  readonly #server: URL;
  readonly #prepare: (agent: http.Agent) => Promise<Prepared>;
  // Kept-alive connections to the apiserver: a new TLS handshake per request was a large share of the operator's CPU
  // while applying 1,000 VirtualBMCs. Tokens travel in headers, so refreshing them does not need new connections.
  readonly #agent: http.Agent;
  /** Watches hold their connection for minutes: their own pool, so they never wait for or block requests. */
  readonly #watchAgent: http.Agent;
  readonly #userAgent: string;
  onWrite: WriteListener | undefined;

  /** From our own kubeconfig loader (kube/config.ts), or from a client-node KubeConfig (exec/auth-provider). */
  constructor(from: Connection | KubeConfigLike, options: { userAgent?: string } = {}) {
    this.#userAgent = options.userAgent ?? USER_AGENT;
    let tlsFor: (agent: http.Agent) => Promise<Prepared>;
    if ('server' in from) {
      this.#server = from.server;
      const tls = from.tls;
      tlsFor = async (agent) => ({ base: { ...tls, agent }, headers: from.headers() });
    } else {
      const cluster = from.getCurrentCluster();
      if (!cluster) throw new Error('the kubeconfig has no current cluster');
      this.#server = new URL(cluster.server);
      // client-node computes TLS and auth (possibly running an exec plugin): refreshed every minute so rotated
      // tokens are picked up.
      let cached: { opts: https.RequestOptions; until: number } | undefined;
      tlsFor = async (agent) => {
        if (!cached || cached.until <= Date.now()) {
          const opts: https.RequestOptions = { headers: {} };
          await from.applyToHTTPSOptions(opts);
          cached = { opts, until: Date.now() + 60_000 };
        }
        const { headers, ...base } = cached.opts;
        return { base: { ...base, agent }, headers: headers as Record<string, string> };
      };
    }
    this.#prepare = tlsFor;
    const Agent = this.#server.protocol === 'http:' ? http.Agent : https.Agent;
    this.#agent = new Agent({ keepAlive: true, maxSockets: 32 });
    this.#watchAgent = new Agent({ keepAlive: true });
  }

  #url(path: string, query: Record<string, string> | undefined): URL {
    const url = new URL(this.#server.pathname.replace(/\/$/, '') + path, this.#server);
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
    return url;
  }

  #transport(url: URL): typeof https.request {
    return url.protocol === 'http:' ? http.request : https.request;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    return (await this.#exchange<T>(method, path, options)).body;
  }

  /** A request that also tells the HTTP status (an apply answers 201 when it created the object). */
  async #exchange<T>(method: string, path: string, options: RequestOptions): Promise<{ status: number; body: T }> {
    const { base, headers: auth } = await this.#prepare(this.#agent);
    const url = this.#url(path, options.query);
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = { ...auth, accept: 'application/json', 'user-agent': this.#userAgent };
    if (payload !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    return new Promise<{ status: number; body: T }>((resolve, reject) => {
      const req = this.#transport(url)(url, { ...base, method, headers, timeout: 30_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            body = undefined;
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve({ status, body: body as T });
          reject(apiError(method, url, status, body, text));
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${url.pathname}: timed out`)));
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  /** A watch request (`?watch=true`): one JSON event per line, handed over as it arrives. */
  watch(path: string, options: WatchOptions): Watching {
    let req: http.ClientRequest | undefined;
    let stopped = false;
    const done = this.#prepare(this.#watchAgent).then(
      ({ base, headers: auth }) =>
        new Promise<void>((resolve, reject) => {
          if (stopped) return resolve();
          const url = this.#url(path, { ...options.query, watch: 'true' });
          const headers = { ...auth, accept: 'application/json', 'user-agent': this.#userAgent };
          req = this.#transport(url)(url, { ...base, method: 'GET', headers }, (res) => {
            const status = res.statusCode ?? 0;
            if (status !== 200) {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => {
                const text = Buffer.concat(chunks).toString('utf8');
                let body: unknown;
                try {
                  body = JSON.parse(text);
                } catch {
                  body = undefined;
                }
                reject(apiError('WATCH', url, status, body, text));
              });
              res.on('error', reject);
              return;
            }
            res.setEncoding('utf8');
            let buffer = '';
            res.on('data', (chunk: string) => {
              buffer += chunk;
              for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
                const line = buffer.slice(0, nl);
                buffer = buffer.slice(nl + 1);
                if (line.trim() === '') continue;
                let event: WatchEvent;
                try {
                  event = JSON.parse(line) as WatchEvent;
                } catch {
                  req?.destroy(new Error(`WATCH ${url.pathname}: an event is not JSON`));
                  return;
                }
                options.onEvent(event);
                if (stopped) return;
              }
            });
            res.on('error', (err) => (stopped ? resolve() : reject(err)));
            // A complete response is the server ending the watch (its timeoutSeconds): the normal way out.
            res.on('close', () =>
              stopped || res.complete ? resolve() : reject(new Error(`WATCH ${url.pathname}: connection lost`)),
            );
          });
          req.setTimeout(options.idleTimeoutMs, () =>
            req?.destroy(new Error(`WATCH ${url.pathname}: silent for ${options.idleTimeoutMs} ms`)),
          );
          req.on('error', (err) => (stopped ? resolve() : reject(err)));
          req.on('close', () => {
            if (stopped) resolve();
          });
          req.end();
        }),
    );
    return {
      done,
      stop: () => {
        stopped = true;
        req?.destroy();
      },
    };
  }

  #wrote(verb: string, kind: string): void {
    this.onWrite?.(verb, kind);
  }

  get<T extends KubeObject>(apiVersion: string, kind: string, namespace: string, name: string): Promise<T> {
    return this.request<T>('GET', `${collectionPath(apiVersion, kind, namespace)}/${encodeURIComponent(name)}`);
  }

  /** Server-side apply with the operator's field manager; force takes over fields from other managers. */
  async apply<T extends KubeObject>(obj: T, opts: { subresource?: 'status'; force?: boolean } = {}): Promise<T> {
    return (await this.applyTelling(obj, opts)).object;
  }

  /** apply(), also telling whether the apply created the object (the apiserver answers 201 Created then). */
  async applyTelling<T extends KubeObject>(
    obj: T,
    opts: { subresource?: 'status'; force?: boolean } = {},
  ): Promise<{ object: T; created: boolean }> {
    this.#wrote('apply', opts.subresource ? `${obj.kind}/status` : obj.kind);
    const path = objectPath(obj) + (opts.subresource ? `/${opts.subresource}` : '');
    const query: Record<string, string> = { fieldManager: FIELD_MANAGER };
    if (opts.force ?? true) query['force'] = 'true';
    const { status, body } = await this.#exchange<T>('PATCH', path, {
      body: obj,
      contentType: 'application/apply-patch+yaml',
      query,
    });
    return { object: body, created: status === 201 };
  }

  /** JSON merge patch (RFC 7386) of an object or its subresource. */
  mergePatch<T extends KubeObject>(obj: KubeObject, patch: unknown, opts: { subresource?: 'status' } = {}): Promise<T> {
    this.#wrote('patch', opts.subresource ? `${obj.kind}/status` : obj.kind);
    const path = objectPath(obj) + (opts.subresource ? `/${opts.subresource}` : '');
    return this.request<T>('PATCH', path, {
      body: patch,
      contentType: 'application/merge-patch+json',
      query: { fieldManager: FIELD_MANAGER },
    });
  }

  create<T extends KubeObject>(obj: T): Promise<T> {
    this.#wrote('create', obj.kind);
    const ns = obj.metadata.namespace ?? '';
    return this.request<T>('POST', collectionPath(obj.apiVersion, obj.kind, ns), {
      body: obj,
      query: { fieldManager: FIELD_MANAGER },
    });
  }

  replace<T extends KubeObject>(obj: T): Promise<T> {
    this.#wrote('update', obj.kind);
    return this.request<T>('PUT', objectPath(obj), { body: obj, query: { fieldManager: FIELD_MANAGER } });
  }

  /** Deletes an object; with a UID precondition it never deletes a newer object of the same name. */
  async delete(obj: KubeObject, opts: { uid?: string; gracePeriodSeconds?: number } = {}): Promise<void> {
    this.#wrote('delete', obj.kind);
    const body: Record<string, unknown> = { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' };
    if (opts.uid) body['preconditions'] = { uid: opts.uid };
    if (opts.gracePeriodSeconds !== undefined) body['gracePeriodSeconds'] = opts.gracePeriodSeconds;
    try {
      await this.request('DELETE', objectPath(obj), { body });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
