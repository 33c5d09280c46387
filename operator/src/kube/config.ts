// Where the apiserver is and how to authenticate, without @kubernetes/client-node: importing client-node's
// KubeConfig loads its whole generated API, undici and every auth plugin (~80 MiB of RSS at start, more than the
// informer caches of 1,000 VirtualBMCs). The operator needs only what a pod and a plain kubeconfig give it:
// in-cluster service-account credentials, or a kubeconfig with certificates, a token, a token file or basic auth.
// Anything else (exec plugins, auth-provider, proxy-url) falls back to client-node, imported only then.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';

/** TLS settings for connections to the apiserver (node:tls options). */
export interface ClusterTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
  servername?: string;
}

/** A resolved connection: server, TLS, and request headers (tokens re-read from their files as they rotate). */
export interface Connection {
  server: URL;
  tls: ClusterTls;
  headers(): Record<string, string>;
}

/** The kubeconfig needs something only client-node implements (exec, auth-provider, proxy-url). */
export class UnsupportedKubeConfig extends Error {
  constructor(what: string) {
    super(`kubeconfig uses ${what}`);
    this.name = 'UnsupportedKubeConfig';
  }
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** Projected service-account tokens are rotated in place; re-read the file at most this often. */
const TOKEN_FILE_TTL_MS = 60_000;

function tokenFromFile(path: string): () => string {
  let cached: { token: string; until: number } | undefined;
  return () => {
    if (!cached || cached.until <= Date.now())
      cached = { token: readFileSync(path, 'utf8').trim(), until: Date.now() + TOKEN_FILE_TTL_MS };
    return cached.token;
  };
}

function bearer(token: () => string): () => Record<string, string> {
  return () => ({ authorization: `Bearer ${token()}` });
}

/** The pod's own service account (KUBERNETES_SERVICE_HOST/PORT and the mounted token and CA). */
export function inClusterConnection(env: NodeJS.ProcessEnv = process.env, dir = SERVICE_ACCOUNT_DIR): Connection {
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'];
  if (!host || !port) throw new Error('KUBERNETES_SERVICE_HOST/PORT are not set');
  const token = tokenFromFile(join(dir, 'token'));
  token(); // fails now, not at the first request, when there is no token
  return {
    server: new URL(`https://${host.includes(':') ? `[${host}]` : host}:${port}`),
    tls: { ca: readFileSync(join(dir, 'ca.crt')), rejectUnauthorized: true },
    headers: bearer(token),
  };
}

interface Named<T> {
  name: string;
  value: T;
}

interface RawCluster {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
  'proxy-url'?: string;
}

interface RawUser {
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  token?: string;
  tokenFile?: string;
  username?: string;
  password?: string;
  exec?: unknown;
  'auth-provider'?: unknown;
}

interface RawContext {
  cluster?: string;
  user?: string;
}

/** One kubeconfig's entries, with file paths made absolute against the file's directory. */
interface Parsed {
  clusters: Named<RawCluster>[];
  users: Named<RawUser>[];
  contexts: Named<RawContext>[];
  currentContext: string | undefined;
}

function entries<T>(list: unknown, field: string, base: string, pathKeys: string[]): Named<T>[] {
  if (!Array.isArray(list)) return [];
  const out: Named<T>[] = [];
  for (const e of list as { name?: unknown; [k: string]: unknown }[]) {
    if (!e || typeof e.name !== 'string') continue;
    const value = { ...((e[field] ?? {}) as Record<string, unknown>) };
    for (const k of pathKeys) {
      const p = value[k];
      if (typeof p === 'string' && p !== '' && !isAbsolute(p)) value[k] = join(base, p);
    }
    out.push({ name: e.name, value: value as T });
  }
  return out;
}

async function parseFile(path: string): Promise<Parsed> {
  const text = readFileSync(path, 'utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    // Only kubeconfig files need YAML; in a pod the operator never loads the parser.
    const { parse } = await import('yaml');
    doc = parse(text);
  }
  const d = (doc ?? {}) as Record<string, unknown>;
  const base = dirname(path);
  return {
    clusters: entries<RawCluster>(d['clusters'], 'cluster', base, ['certificate-authority']),
    users: entries<RawUser>(d['users'], 'user', base, ['client-certificate', 'client-key', 'tokenFile']),
    contexts: entries<RawContext>(d['contexts'], 'context', base, []),
    currentContext: typeof d['current-context'] === 'string' ? d['current-context'] : undefined,
  };
}

/** Several files merge as kubectl merges them: the first file to define a name or the current context wins. */
function merge(files: Parsed[]): Parsed {
  const out: Parsed = { clusters: [], users: [], contexts: [], currentContext: undefined };
  for (const f of files) {
    for (const k of ['clusters', 'users', 'contexts'] as const) {
      const have = new Set(out[k].map((e) => e.name));
      for (const e of f[k]) if (!have.has(e.name)) (out[k] as Named<unknown>[]).push(e);
    }
    out.currentContext ??= f.currentContext;
  }
  return out;
}

const pem = (data: string | undefined, file: string | undefined): Buffer | undefined =>
  data ? Buffer.from(data, 'base64') : file ? readFileSync(file) : undefined;

/** The current context of a kubeconfig as a Connection. */
function connectionFromKubeConfig(config: Parsed): Connection {
  const contextName = config.currentContext;
  if (!contextName) throw new Error('the kubeconfig has no current-context');
  const context = config.contexts.find((c) => c.name === contextName)?.value;
  if (!context) throw new Error(`the kubeconfig has no context ${contextName}`);
  const cluster = config.clusters.find((c) => c.name === context.cluster)?.value;
  if (!cluster?.server) throw new Error(`the kubeconfig has no server for cluster ${context.cluster}`);
  const user = config.users.find((u) => u.name === context.user)?.value ?? {};
  if (user.exec) throw new UnsupportedKubeConfig('an exec credential plugin');
  if (user['auth-provider']) throw new UnsupportedKubeConfig('an auth-provider');
  if (cluster['proxy-url']) throw new UnsupportedKubeConfig('proxy-url');

  const tls: ClusterTls = { rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true };
  const ca = pem(cluster['certificate-authority-data'], cluster['certificate-authority']);
  const cert = pem(user['client-certificate-data'], user['client-certificate']);
  const key = pem(user['client-key-data'], user['client-key']);
  if (ca) tls.ca = ca;
  if (cert) tls.cert = cert;
  if (key) tls.key = key;
  if (cluster['tls-server-name']) tls.servername = cluster['tls-server-name'];

  let headers = (): Record<string, string> => ({});
  if (user.token) headers = bearer(() => user.token as string);
  else if (user.tokenFile) headers = bearer(tokenFromFile(user.tokenFile));
  else if (user.username && user.password) {
    const basic = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
    headers = () => ({ authorization: basic });
  }
  return { server: new URL(cluster.server), tls, headers };
}

export async function loadKubeConfigFiles(paths: string[]): Promise<Connection> {
  return connectionFromKubeConfig(merge(await Promise.all(paths.map(parseFile))));
}

/**
 * The default search, as kubectl and client-node do it: $KUBECONFIG (a list of files), else ~/.kube/config, else
 * the pod's service account. Throws UnsupportedKubeConfig for what only client-node can do.
 */
export async function loadDefaultConnection(env: NodeJS.ProcessEnv = process.env): Promise<Connection> {
  const files = (env['KUBECONFIG'] ?? '').split(delimiter).filter((f) => f !== '');
  if (files.length > 0) return loadKubeConfigFiles(files);
  const home = join(env['HOME'] || homedir(), '.kube', 'config');
  if (existsSync(home)) return loadKubeConfigFiles([home]);
  if (!env['KUBERNETES_SERVICE_HOST']) throw new Error('no kubeconfig found');
  return inClusterConnection(env);
}
