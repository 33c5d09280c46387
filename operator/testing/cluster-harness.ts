// Test-only helpers for the operator's cluster suites: run the real operator process against a test cluster,
// act as the scheduler (the test bed has none), read the apiserver audit log, wait with bounded loops.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Cluster } from '../../test/support/cluster.ts';
import { freePort } from '../../test/support/ports.ts';
import { ApiError, KubeClient } from '../src/kube/client.ts';

export const NODE_NAME = 'kwok-node-0';
const NODE_BIN = join(process.cwd(), 'node_modules/.bin/node');

/**
 * kube-apiserver flags for a bed without kube-controller-manager: PVCs get no pvc-protection finalizer, which
 * nothing would remove (ServiceAccount stays disabled as in test/support/cluster.ts; a repeated flag replaces it).
 */
export const BED_APISERVER_ARGS = ['--disable-admission-plugins=ServiceAccount,StorageObjectInUseProtection'];

export const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
`;

/** kube-apiserver flags that write an audit log of every request (metadata only) to <dir>/audit.log. */
export function auditArgs(dir: string): string[] {
  const policy = join(dir, 'audit-policy.yaml');
  writeFileSync(policy, AUDIT_POLICY);
  return [`--audit-policy-file=${policy}`, `--audit-log-path=${join(dir, 'audit.log')}`, '--audit-log-mode=blocking'];
}

export interface AuditEvent {
  verb: string;
  userAgent?: string;
  objectRef?: { resource?: string; subresource?: string; name?: string; namespace?: string };
  responseStatus?: { code?: number };
}

export function readAudit(dir: string): AuditEvent[] {
  const path = join(dir, 'audit.log');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditEvent);
}

export const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

export interface OperatorProcess {
  child: ChildProcess;
  port: number;
  identity: string;
  logPath: string;
  log(): string;
  metrics(): Promise<string>;
  /** SIGTERM and wait for exit. */
  stop(): Promise<number | null>;
  /** SIGKILL: no cleanup, as a crash. */
  kill(): Promise<void>;
}

/**
 * Starts the operator process: `node <args>`, the TypeScript sources by default; the benchmark runs the shipped
 * bundle with the image's node flags (scripts/build-operator.ts).
 */
export async function startOperator(
  cluster: Cluster,
  dir: string,
  identity: string,
  env: Record<string, string> = {},
  args: string[] = ['operator/src/main.ts'],
): Promise<OperatorProcess> {
  const port = await freePort();
  const logPath = join(dir, `operator-${identity}.log`);
  const fd = openSync(logPath, 'a');
  const child = spawn(NODE_BIN, args, {
    env: {
      PATH: process.env['PATH'] ?? '',
      KUBECONFIG: cluster.kubeconfig,
      LISTEN_ADDRESS: `127.0.0.1:${port}`,
      POD_NAME: identity,
      LEASE_NAMESPACE: 'default',
      LEASE_DURATION_SECONDS: '6',
      LEASE_RENEW_SECONDS: '2',
      AGENT_IMAGE: 'example.invalid/qemu-bmc-agent:test',
      LOG_LEVEL: 'debug',
      ...env,
    },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const proc: OperatorProcess = {
    child,
    port,
    identity,
    logPath,
    log: () => readFileSync(logPath, 'utf8'),
    // As Prometheus does it: a ServiceAccount token allowed GET /metrics (the operator asks the apiserver).
    metrics: async () => httpGet(`http://127.0.0.1:${port}/metrics`, await metricsReaderToken(cluster)),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  await waitFor(
    `operator ${identity} /healthz`,
    async () => (await httpGet(`http://127.0.0.1:${port}/healthz`).catch(() => '')) === 'ok\n',
    300,
    100,
  );
  return proc;
}

const READER_RBAC = `apiVersion: v1
kind: ServiceAccount
metadata: { name: metrics-reader, namespace: default }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: test-metrics-reader }
rules: [{ nonResourceURLs: [/metrics], verbs: [get] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: test-metrics-reader }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: test-metrics-reader }
subjects: [{ kind: ServiceAccount, name: metrics-reader, namespace: default }]
`;
const readerTokens = new WeakMap<Cluster, Promise<string>>();

/** A token of a ServiceAccount bound to GET /metrics in this cluster, made once per cluster. */
export function metricsReaderToken(cluster: Cluster): Promise<string> {
  let token = readerTokens.get(cluster);
  if (!token) {
    token = (async () => {
      await cluster.kubectl(['apply', '-f', '-'], READER_RBAC);
      const { stdout } = await cluster.kubectl(['create', 'token', 'metrics-reader', '-n', 'default', '--duration=2h']);
      return stdout.trim();
    })();
    readerTokens.set(cluster, token);
  }
  return token;
}

export function httpGet(url: string, bearerToken?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = bearerToken ? { authorization: `Bearer ${bearerToken}` } : {};
    const req = request(url, { timeout: 5_000, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

/** Value of an unlabelled (or exactly labelled) sample in Prometheus text. */
export function metricValue(text: string, sample: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

/** Retries `check` every `intervalMs`, at most `attempts` times; throws with the last error or `what`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  attempts: number,
  intervalMs = 250,
): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

export async function getJson<T = Record<string, unknown>>(cluster: Cluster, args: string[]): Promise<T> {
  const { stdout } = await cluster.kubectl([...args, '-o', 'json']);
  return JSON.parse(stdout) as T;
}

export interface PodJson {
  metadata: { name: string; namespace: string; uid: string; annotations?: Record<string, string> };
  spec: { nodeName?: string; containers: { env?: { name: string; value?: string }[] }[] };
  status?: { phase?: string };
}

/** Binds every unscheduled agent pod to the kwok node, as kube-scheduler would. Returns how many it bound. */
export async function schedulePods(cluster: Cluster, namespace: string): Promise<number> {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  const client = new KubeClient(kc);
  const pods = await client.request<{ items: PodJson[] }>('GET', `/api/v1/namespaces/${namespace}/pods`, {
    query: { labelSelector: 'app.kubernetes.io/managed-by=qemu-bmc-operator' },
  });
  let bound = 0;
  for (const pod of pods.items) {
    if (pod.spec.nodeName) continue;
    const binding = {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: pod.metadata.name, namespace },
      target: { apiVersion: 'v1', kind: 'Node', name: NODE_NAME },
    };
    try {
      await client.request('POST', `/api/v1/namespaces/${namespace}/pods/${pod.metadata.name}/binding`, {
        body: binding,
      });
      bound++;
    } catch (err) {
      // Already bound, or replaced meanwhile: the next round sees the new state.
      if (!(err instanceof ApiError) || ![404, 409].includes(err.status)) throw err;
    }
  }
  return bound;
}

export const kwokNode = `apiVersion: v1
kind: Node
metadata:
  name: ${NODE_NAME}
  labels: {type: kwok}
`;

export function envOf(pod: PodJson): Record<string, string> {
  return Object.fromEntries((pod.spec.containers[0]?.env ?? []).map((e) => [e.name, e.value ?? '']));
}
