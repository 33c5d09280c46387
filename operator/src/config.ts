// Operator configuration from the environment. A bad value is one line naming the variable; nothing starts.
import { hostname } from 'node:os';

export interface OperatorConfig {
  /** Default agent image for VirtualBMCs that name none. */
  agentImage: string;
  /** Only this namespace, or every namespace when empty. */
  watchNamespace: string;
  workers: number;
  resyncSeconds: number;
  /** host:port of /healthz, /readyz and /metrics. */
  listen: { host: string; port: number };
  /**
   * Who may read /metrics: "kubernetes" (default) asks the apiserver about the scraper's bearer token (TokenReview,
   * then SubjectAccessReview for GET /metrics); "none" serves it to anyone who can connect.
   */
  metricsAuth: 'kubernetes' | 'none';
  leaderElection: boolean;
  leaseName: string;
  leaseNamespace: string;
  identity: string;
  leaseDurationSeconds: number;
  leaseRenewSeconds: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /**
   * "namespace/name=host:port" pairs: reach these agents there instead of at their Service IP
   * (tests and out-of-cluster development; only the operator's deployer can set it).
   */
  agentEndpoints: Map<string, string>;
}

export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `'${raw}' is not a whole number`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `${n} is outside ${min}..${max}`);
  return n;
}

function bool(env: Env, name: string, def: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(name, `'${raw}' is not true or false`);
}

function metricsAuth(raw: string | undefined): OperatorConfig['metricsAuth'] {
  if (raw === undefined || raw === '' || raw === 'kubernetes') return 'kubernetes';
  if (raw === 'none') return 'none';
  throw new ConfigError('METRICS_AUTH', `'${raw}' is not kubernetes or none`);
}

const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]*):(\d{1,5})$/;

function hostPort(name: string, raw: string): { host: string; port: number } {
  const m = HOST_PORT.exec(raw);
  const port = Number(m?.[2]);
  if (!m || port < 1 || port > 65535)
    throw new ConfigError(name, `'${raw}' is not host:port (e.g. 0.0.0.0:8080 or :8080)`);
  return { host: (m[1] ?? '').replace(/^\[|\]$/g, '') || '0.0.0.0', port };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function agentEndpoints(raw: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [key, target] = entry.split('=');
    const [ns, name] = (key ?? '').split('/');
    if (!ns || !name || !DNS_LABEL.test(ns) || !DNS_LABEL.test(name) || !target) {
      throw new ConfigError('AGENT_ENDPOINTS', `'${entry}' is not namespace/name=host:port`);
    }
    hostPort('AGENT_ENDPOINTS', target);
    out.set(`${ns}/${name}`, target);
  }
  return out;
}

export function loadConfig(env: Env = process.env): OperatorConfig {
  const logLevel = env['LOG_LEVEL'] || 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `'${logLevel}' is not one of debug, info, warn, error`);
  }
  const watchNamespace = env['WATCH_NAMESPACE'] ?? '';
  if (watchNamespace && !DNS_LABEL.test(watchNamespace))
    throw new ConfigError('WATCH_NAMESPACE', `'${watchNamespace}' is not a namespace name`);
  const leaseNamespace = env['LEASE_NAMESPACE'] || env['POD_NAMESPACE'] || 'default';
  if (!DNS_LABEL.test(leaseNamespace))
    throw new ConfigError('LEASE_NAMESPACE', `'${leaseNamespace}' is not a namespace name`);
  const leaseName = env['LEASE_NAME'] || 'qemu-bmc-operator';
  if (!DNS_LABEL.test(leaseName)) throw new ConfigError('LEASE_NAME', `'${leaseName}' is not a valid name`);
  const leaseDurationSeconds = int(env, 'LEASE_DURATION_SECONDS', 15, 2, 300);
  const leaseRenewSeconds = int(env, 'LEASE_RENEW_SECONDS', 5, 1, 300);
  if (leaseRenewSeconds * 2 > leaseDurationSeconds) {
    throw new ConfigError(
      'LEASE_RENEW_SECONDS',
      `${leaseRenewSeconds} must be at most half of LEASE_DURATION_SECONDS (${leaseDurationSeconds})`,
    );
  }
  const agentImage = env['AGENT_IMAGE'] || 'ghcr.io/qemu-bmc/bmc-agent:0.1.0';
  if (/\s/.test(agentImage)) throw new ConfigError('AGENT_IMAGE', `'${agentImage}' contains whitespace`);
  return {
    agentImage,
    watchNamespace,
    workers: int(env, 'WORKERS', 16, 1, 64),
    resyncSeconds: int(env, 'RESYNC_SECONDS', 300, 10, 86_400),
    listen: hostPort('LISTEN_ADDRESS', env['LISTEN_ADDRESS'] || ':8080'),
    metricsAuth: metricsAuth(env['METRICS_AUTH']),
    leaderElection: bool(env, 'LEADER_ELECTION', true),
    leaseName,
    leaseNamespace,
    identity: env['POD_NAME'] || `${hostname()}-${process.pid}`,
    leaseDurationSeconds,
    leaseRenewSeconds,
    logLevel: logLevel as OperatorConfig['logLevel'],
    agentEndpoints: agentEndpoints(env['AGENT_ENDPOINTS']),
  };
}
