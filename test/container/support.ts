// Helpers for the container suite: build the images from this tree, run the agent image with testcontainers,
// and talk to it the way users do (ipmitool, curl, docker) through published ports on loopback.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GenericContainer, type StartedTestContainer, Wait } from 'testcontainers';
import { neverPull, requireContainerBed } from '../support/docker.ts';
import { freePort } from '../support/ports.ts';
import { requireCommand } from '../support/require.ts';

export const repoRoot = resolve(import.meta.dirname, '../..');
export const AGENT_IMAGE = 'qemu-bmc-agent:test';
export const OPERATOR_IMAGE = 'qemu-bmc-operator:test';
/** Every container, volume and compose project this suite makes carries this prefix (cleanup, debugging). */
export const PREFIX = 'qbmc-ct';

export function uniqueName(what: string): string {
  return `${PREFIX}-${what}-${randomBytes(3).toString('hex')}`;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command without a shell; never throws on a non-zero exit (the caller asserts). */
export function runCommand(
  cmd: string,
  args: string[],
  timeoutMs = 60_000,
  env?: NodeJS.ProcessEnv,
  cwd = repoRoot,
): RunResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs, env: env ?? process.env, cwd });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')}: ${r.error.message}`);
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function docker(args: string[], timeoutMs = 60_000): string {
  return execFileSync('docker', args, {
    encoding: 'utf8',
    timeout: timeoutMs,
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
}

const built = new Map<string, number>();

/**
 * Builds an image from this tree with plain `docker build` (the legacy builder, as a user would), once per test
 * file; layer caching makes a rebuild of an unchanged tree take seconds. Returns the build's wall time in seconds.
 */
export function buildImage(dockerfile: 'Dockerfile.agent' | 'Dockerfile.operator', tag: string): number {
  const done = built.get(tag);
  if (done !== undefined) return done;
  requireContainerBed();
  const started = Date.now();
  const r = runCommand('docker', ['build', '-t', tag, '-f', dockerfile, '.'], 900_000);
  if (r.code !== 0) throw new Error(`docker build -f ${dockerfile} failed:\n${(r.stdout + r.stderr).slice(-4000)}`);
  const seconds = (Date.now() - started) / 1000;
  built.set(tag, seconds);
  return seconds;
}

export function imageSizeBytes(tag: string): number {
  return Number(docker(['image', 'inspect', '--format', '{{.Size}}', tag]).trim());
}

/** Polls `check` until it returns a value other than undefined; bounded by `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    await sleep(intervalMs);
  }
  const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
}

export interface Credentials {
  user: string;
  password: string;
}

/** ipmitool over the published UDP port: `-I lanplus` (RMCP+) unless told otherwise. */
export function ipmitool(port: number, creds: Credentials, args: string[], iface: 'lanplus' | 'lan' = 'lanplus') {
  return runCommand(
    'ipmitool',
    ['-I', iface, '-H', '127.0.0.1', '-p', String(port), '-U', creds.user, '-P', creds.password, ...args],
    60_000,
  );
}

/** Waits until `ipmitool mc info` answers on the port (after a container start). */
export async function ipmiAnswers(port: number, creds: Credentials, timeoutMs = 90_000): Promise<void> {
  await waitFor(
    `IPMI on port ${port}`,
    () => (ipmitool(port, creds, ['mc', 'info']).code === 0 ? true : undefined),
    timeoutMs,
  );
}

export interface CurlResult {
  status: number;
  body: string;
  /** Parsed body when it is JSON, else null. */
  json: Record<string, unknown> | null;
}

/** curl against the published HTTPS port (the agent's self-signed certificate, hence -k). */
export function curl(
  port: number,
  method: string,
  path: string,
  options: { creds?: Credentials; body?: unknown } = {},
): CurlResult {
  const args = ['-sk', '-X', method, '-w', '\n%{http_code}', '--max-time', '30'];
  if (options.creds) args.push('-u', `${options.creds.user}:${options.creds.password}`);
  if (options.body !== undefined) args.push('-H', 'Content-Type: application/json', '-d', JSON.stringify(options.body));
  args.push(`https://127.0.0.1:${port}${path}`);
  const r = runCommand('curl', args);
  const cut = r.stdout.lastIndexOf('\n');
  const body = r.stdout.slice(0, cut);
  let json: Record<string, unknown> | null = null;
  try {
    json = JSON.parse(body) as Record<string, unknown>;
  } catch {
    json = null;
  }
  return { status: Number(r.stdout.slice(cut + 1)), body, json };
}

export function requireClients(): void {
  requireCommand('ipmitool', 'npm run bed -- apt');
  requireCommand('curl', 'npm run bed -- apt');
}

export interface AgentContainerOptions {
  env?: Record<string, string>;
  /** Named volumes or host paths → container paths (mode ro or rw). */
  mounts?: Array<{ source: string; target: string; mode?: 'ro' | 'rw' }>;
  capabilities?: string[];
}

export interface AgentContainer {
  container: StartedTestContainer;
  id: string;
  ipmiPort: number;
  redfishPort: number;
  /** Runs a command inside the container (no shell unless you pass one). */
  exec(cmd: string[]): Promise<RunResult>;
  /** PID of the running QEMU (from STATE_DIR/qemu.pid, checked against /proc), or null when none runs. */
  qemuPid(): Promise<number | null>;
  /** argv of the running QEMU. */
  qemuArgv(): Promise<string[]>;
  logs(): string;
}

/** The agent image's ready line: IPMI LAN is the last front end to start. */
const READY_LOG = /"msg":"ipmi lan listening"/;

export async function startAgentContainer(options: AgentContainerOptions = {}): Promise<AgentContainer> {
  const ipmiPort = await freePort('udp');
  const redfishPort = await freePort('tcp');
  let builder = new GenericContainer(AGENT_IMAGE)
    .withPullPolicy(neverPull)
    .withName(uniqueName('agent'))
    .withEnvironment(options.env ?? {})
    .withExposedPorts({ container: 623, host: ipmiPort, protocol: 'udp' }, { container: 443, host: redfishPort })
    .withWaitStrategy(Wait.forLogMessage(READY_LOG))
    .withStartupTimeout(90_000);
  if (options.mounts) builder = builder.withBindMounts(options.mounts.map((m) => ({ mode: 'rw', ...m })));
  if (options.capabilities) builder = builder.withAddedCapabilities(...options.capabilities);
  const container = await builder.start();
  return agentHandle(container, ipmiPort, redfishPort);
}

function agentHandle(container: StartedTestContainer, ipmiPort: number, redfishPort: number): AgentContainer {
  const id = container.getId();
  const exec = async (cmd: string[]): Promise<RunResult> => {
    const r = await container.exec(cmd);
    return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
  };
  const qemuPid = async (): Promise<number | null> => {
    // No procps in the image: the machine's pid file, confirmed by the process's name in /proc.
    const r = await exec(['sh', '-c', 'p=$(cat /var/lib/qemu-bmc/qemu.pid) && echo "$p $(cat /proc/$p/comm)"']);
    const m = /^(\d+) qemu-system-x86/.exec(r.stdout.trim());
    return r.code === 0 && m ? Number(m[1]) : null;
  };
  return {
    container,
    id,
    ipmiPort,
    redfishPort,
    exec,
    qemuPid,
    async qemuArgv() {
      const pid = await qemuPid();
      if (pid === null) throw new Error('no QEMU process is running');
      const r = await exec(['cat', `/proc/${pid}/cmdline`]);
      return r.stdout.split('\0').filter((a) => a !== '');
    },
    logs() {
      const r = runCommand('docker', ['logs', id]);
      return r.stdout + r.stderr;
    },
  };
}

/** Removes containers and volumes by name or id; missing ones are fine (cleanup in afterAll). */
export function removeContainers(...ids: string[]): void {
  for (const id of ids) runCommand('docker', ['rm', '-f', '-v', id]);
}

export function removeVolumes(...names: string[]): void {
  for (const name of names) runCommand('docker', ['volume', 'rm', '-f', name]);
}

/** Fenced ```sh blocks of a doc that follow a `<!-- test: NAME -->` marker, as logical lines (continuations joined). */
export function docCommands(docPath: string, name: string): string[] {
  const text = readFileSync(resolve(repoRoot, docPath), 'utf8');
  const marker = `<!-- test: ${name} -->`;
  const at = text.indexOf(marker);
  if (at < 0) throw new Error(`${docPath} has no ${marker}`);
  const block = /```(?:sh|bash)\n([\s\S]*?)```/.exec(text.slice(at));
  if (!block?.[1]) throw new Error(`${docPath}: no fenced sh block after ${marker}`);
  return block[1]
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}
