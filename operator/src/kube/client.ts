// A small JSON client for the apiserver on top of client-node's KubeConfig (auth, TLS). It exists so that
// every write is a server-side apply with our field manager, status goes to the status subresource, and the
// operator can count its own writes.
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../api/names.ts';
import { API_VERSION, PLURAL } from '../api/types.ts';
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
  throw new Error(`no path known for ${apiVersion} ${kind}`);
}

export function objectPath(obj: KubeObject): string {
  if (!obj.metadata.namespace) throw new Error(`${obj.kind} ${obj.metadata.name} has no namespace`);
  return `${collectionPath(obj.apiVersion, obj.kind, obj.metadata.namespace)}/${encodeURIComponent(obj.metadata.name)}`;
}

export type WriteListener = (verb: string, kind: string) => void;

interface RequestOptions {
  body?: unknown;
  contentType?: string;
  query?: Record<string, string>;
}

export class KubeClient {
  readonly #kc: KubeConfig;
  readonly #server: URL;
  #tls: { opts: https.RequestOptions; until: number } | undefined;
  // Kept-alive connections to the apiserver: a new TLS handshake per request was a large share of the operator's CPU
  // while applying 1,000 VirtualBMCs. Tokens travel in headers, so refreshing them does not need new connections.
  readonly #agent = new https.Agent({ keepAlive: true, maxSockets: 32 });
  onWrite: WriteListener | undefined;

  constructor(kc: KubeConfig) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    this.#kc = kc;
    this.#server = new URL(cluster.server);
  }

  /** TLS and auth options, refreshed every minute so rotated service-account tokens are picked up. */
  async #options(): Promise<https.RequestOptions> {
    if (this.#tls && this.#tls.until > Date.now()) return this.#tls.opts;
    const opts: https.RequestOptions = { headers: {} };
    await this.#kc.applyToHTTPSOptions(opts);
    if (this.#server.protocol === 'https:') opts.agent = this.#agent;
    this.#tls = { opts, until: Date.now() + 60_000 };
    return opts;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const base = await this.#options();
    const url = new URL(this.#server.pathname.replace(/\/$/, '') + path, this.#server);
    for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = {
      ...(base.headers as Record<string, string>),
      accept: 'application/json',
      'user-agent': USER_AGENT,
    };
    if (payload !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    const transport = url.protocol === 'http:' ? http : https;
    return new Promise<T>((resolve, reject) => {
      const req = transport.request(url, { ...base, method, headers, timeout: 30_000 }, (res) => {
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
          if (status >= 200 && status < 300) return resolve(body as T);
          const s = (body ?? {}) as { message?: string; reason?: string };
          reject(
            new ApiError(
              status,
              s.reason ?? 'Unknown',
              `${method} ${url.pathname}: ${status} ${s.message ?? text.slice(0, 200)}`,
            ),
          );
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${url.pathname}: timed out`)));
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  #wrote(verb: string, kind: string): void {
    this.onWrite?.(verb, kind);
  }

  get<T extends KubeObject>(apiVersion: string, kind: string, namespace: string, name: string): Promise<T> {
    return this.request<T>('GET', `${collectionPath(apiVersion, kind, namespace)}/${encodeURIComponent(name)}`);
  }

  /** Server-side apply with the operator's field manager; force takes over fields from other managers. */
  apply<T extends KubeObject>(obj: T, opts: { subresource?: 'status'; force?: boolean } = {}): Promise<T> {
    this.#wrote('apply', opts.subresource ? `${obj.kind}/status` : obj.kind);
    const path = objectPath(obj) + (opts.subresource ? `/${opts.subresource}` : '');
    const query: Record<string, string> = { fieldManager: FIELD_MANAGER };
    if (opts.force ?? true) query['force'] = 'true';
    return this.request<T>('PATCH', path, { body: obj, contentType: 'application/apply-patch+yaml', query });
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
