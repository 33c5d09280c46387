// OpenStack Ironic, standalone, from the venv test/env/ironic.sh builds: one `ironic` process (API + conductor)
// with sqlite, noauth and no message bus, configured from docs/examples/ironic/ironic.conf, plus the web server
// that serves Ironic's [deploy]http_root (where it publishes virtual media images for the BMC to read).
// Address-agnostic: everything binds to and advertises `host` (default 127.0.0.1); a BMC elsewhere must reach it.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';
import { freePorts } from './ports.ts';
import { requireCommand } from './require.ts';

const installHint = 'npm run bed -- ironic';
const envDir = resolve(import.meta.dirname, '..', 'env');
const pinnedFiles = ['requirements-ironic.txt', 'constraints-ironic.txt'];
/** The docs' example directory: ironic.conf (the config template) and the command files the guide shows. */
export const IRONIC_EXAMPLES = resolve(import.meta.dirname, '..', '..', 'docs', 'examples', 'ironic');
/** The API version the helper's own requests ask for (Ironic 39 serves up to 1.115; vmedia GET needs 1.93). */
const API_VERSION = '1.93';

export interface IronicOptions {
  /** Address the API and the image web server bind to and advertise (default 127.0.0.1). */
  host?: string;
  /** Prefix of the temp directory, to tell runs apart in /tmp. */
  name?: string;
}

export interface IronicNode {
  uuid: string;
  name: string | null;
  driver: string;
  provision_state: string;
  target_provision_state: string | null;
  power_state: string | null;
  target_power_state: string | null;
  last_error: string | null;
  boot_interface: string;
  deploy_interface: string;
  driver_info: Record<string, unknown>;
  instance_info: Record<string, unknown>;
}

export interface IronicResponse {
  status: number;
  body: unknown;
}

export interface CommandRun {
  stdout: string;
  stderr: string;
}

export interface Ironic {
  /** The API endpoint, http://<host>:<port> (what OS_ENDPOINT is). */
  url: string;
  /** [deploy]http_url: where Ironic publishes images for BMCs. */
  httpUrl: string;
  /** The venv the bed built. */
  venv: string;
  /** Environment for the `baremetal` CLI and the docs' scripts: OS_AUTH_TYPE=none, OS_ENDPOINT, PATH. */
  env: Record<string, string>;
  /** Serves `data` from the image web server (range requests work) and returns its URL. */
  serveFile(name: string, data: Buffer): string;
  /** One Ironic API call (JSON in, JSON out). */
  request(method: string, path: string, body?: unknown): Promise<IronicResponse>;
  node(ident: string): Promise<IronicNode>;
  /** Polls the node (bounded) until `done` holds; throws with the node's last_error otherwise. */
  waitForNode(ident: string, what: string, done: (node: IronicNode) => boolean, timeoutS?: number): Promise<IronicNode>;
  /** Runs a file of docs/examples/ironic with bash (-e), `env` on top of this.env. */
  runExample(file: string, env: Record<string, string>): Promise<CommandRun>;
  /** Runs `baremetal <args>` against this Ironic. */
  baremetal(args: string[]): Promise<CommandRun>;
  /** Ironic's log so far (debug level: ipmitool command lines, Redfish requests). */
  logs(): string;
  stop(): Promise<void>;
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The key ironic.sh computes with `sha256sum FILES | sha256sum | cut -c1-12`. */
function venvKey(): string {
  const listing = pinnedFiles.map((name) => `${sha256Hex(readFileSync(join(envDir, name)))}  ${name}\n`).join('');
  return sha256Hex(listing).slice(0, 12);
}

/** Fails loudly (never skips) unless the Ironic venv exists and matches the pinned requirements. */
export function requireIronic(): string {
  const cache = process.env.QEMU_BMC_CACHE ?? join(homedir(), '.cache', 'qemu-bmc');
  const key = venvKey();
  const venv = join(cache, `ironic-venv-${key}`);
  const marker = join(venv, '.bed-complete');
  if (!existsSync(marker) || readFileSync(marker, 'utf8').trim() !== key)
    throw new Error(`prerequisite missing: Ironic venv ${venv} (absent or stale); build it with: ${installHint}`);
  for (const bin of ['ironic', 'ironic-dbsync', 'baremetal'])
    if (!existsSync(join(venv, 'bin', bin)))
      throw new Error(`prerequisite missing: ${join(venv, 'bin', bin)}; build it with: ${installHint}`);
  return venv;
}

/** ironic.conf from the docs' template, with the @...@ words filled in. */
export function renderIronicConf(values: {
  host: string;
  apiPort: number;
  httpPort: number;
  stateDir: string;
}): string {
  const template = readFileSync(join(IRONIC_EXAMPLES, 'ironic.conf'), 'utf8');
  const filled = template
    .replaceAll('@HOST@', values.host)
    .replaceAll('@API_PORT@', String(values.apiPort))
    .replaceAll('@HTTP_PORT@', String(values.httpPort))
    .replaceAll('@STATE_DIR@', values.stateDir);
  const left = /@[A-Z_]+@/.exec(filled);
  if (left) throw new Error(`ironic.conf template: ${left[0]} is not filled in`);
  return filled;
}

function runFile(command: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<CommandRun> {
  return new Promise((resolvePromise, reject) => {
    execFile(command, args, { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const why = err.killed ? `timed out after ${timeoutMs} ms` : `failed (${err.code})`;
        reject(new Error(`${command} ${args.join(' ')} ${why}\nstdout:\n${stdout}\nstderr:\n${stderr}`));
        return;
      }
      resolvePromise({ stdout, stderr });
    });
  });
}

async function startImageServer(root: string, host: string, port: number): Promise<Server> {
  const app = express();
  // QEMU's curl block driver reads virtual media by byte ranges.
  app.use(express.static(root, { acceptRanges: true }));
  return new Promise((resolvePromise, reject) => {
    const server = app.listen(port, host, () => resolvePromise(server));
    server.once('error', reject);
  });
}

export async function startIronic(options: IronicOptions = {}): Promise<Ironic> {
  const venv = requireIronic();
  requireCommand('ipmitool', 'npm run bed -- apt');
  const host = options.host ?? '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), `${options.name ?? 'ironic'}-`));
  for (const sub of ['state', 'tmp', 'http', 'tftp', 'images', 'master_images']) mkdirSync(join(dir, sub));
  const [apiPort, httpPort] = await freePorts(2, 'tcp', host);
  if (apiPort === undefined || httpPort === undefined) throw new Error('freePorts returned too few ports');
  const conf = join(dir, 'ironic.conf');
  writeFileSync(conf, renderIronicConf({ host, apiPort, httpPort, stateDir: dir }));
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${apiPort}`;
  const httpUrl = `http://${host.includes(':') ? `[${host}]` : host}:${httpPort}`;
  const env: Record<string, string> = {
    PATH: `${join(venv, 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    HOME: process.env.HOME ?? dir,
    OS_AUTH_TYPE: 'none',
    OS_ENDPOINT: url,
    OS_BAREMETAL_API_VERSION: 'latest',
  };
  const logFile = join(dir, 'ironic.log');
  let child: ChildProcess | null = null;
  let images: Server | null = null;

  const stop = async (): Promise<void> => {
    const running = child;
    child = null;
    if (running?.pid !== undefined && running.exitCode === null && running.signalCode === null) {
      const exited = new Promise<void>((done) => running.once('exit', () => done()));
      // The launcher forks its workers into the process group we created: signal the whole group.
      process.kill(-running.pid, 'SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]);
      if (!stopped) {
        process.kill(-running.pid, 'SIGKILL');
        await exited;
      }
    }
    if (images) await new Promise<void>((done) => images?.close(() => done()));
    images = null;
    rmSync(dir, { recursive: true, force: true });
  };
  const logs = (): string => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');

  try {
    await runFile(
      join(venv, 'bin', 'ironic-dbsync'),
      ['--config-file', conf, 'create_schema'],
      { ...env, PATH: env.PATH ?? '' },
      120_000,
    );
    images = await startImageServer(join(dir, 'http'), host, httpPort);
    const fd = openSync(logFile, 'a');
    child = spawn(join(venv, 'bin', 'ironic'), ['--config-file', conf], {
      env,
      stdio: ['ignore', fd, fd],
      detached: true,
    });
    closeSync(fd);
    const started = child;
    // Up means: the API answers and the conductor has registered both hardware types.
    let drivers: string[] = [];
    for (let attempt = 0; attempt < 240 && !(drivers.includes('ipmi') && drivers.includes('redfish')); attempt++) {
      if (started.exitCode !== null) throw new Error(`ironic exited with ${started.exitCode}:\n${logs().slice(-4000)}`);
      try {
        const response = await fetch(`${url}/v1/drivers`, {
          headers: { 'X-OpenStack-Ironic-API-Version': API_VERSION },
        });
        if (response.ok) {
          const body = (await response.json()) as { drivers: Array<{ name: string }> };
          drivers = body.drivers.map((d) => d.name);
        }
      } catch {
        // not listening yet
      }
      if (!(drivers.includes('ipmi') && drivers.includes('redfish'))) await sleep(500);
    }
    if (!(drivers.includes('ipmi') && drivers.includes('redfish')))
      throw new Error(`ironic did not come up with the ipmi and redfish drivers:\n${logs().slice(-4000)}`);
  } catch (err) {
    await stop();
    throw err;
  }

  const request = async (method: string, path: string, body?: unknown): Promise<IronicResponse> => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { 'Content-Type': 'application/json', 'X-OpenStack-Ironic-API-Version': API_VERSION },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
  };
  const node = async (ident: string): Promise<IronicNode> => {
    const response = await request('GET', `/v1/nodes/${encodeURIComponent(ident)}`);
    if (response.status !== 200)
      throw new Error(`GET node ${ident}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body as IronicNode;
  };

  return {
    url,
    httpUrl,
    venv,
    env,
    serveFile: (name, data) => {
      if (!/^[\w.-]+$/.test(name)) throw new Error(`serveFile: not a plain file name: ${JSON.stringify(name)}`);
      mkdirSync(join(dir, 'http', 'files'), { recursive: true });
      writeFileSync(join(dir, 'http', 'files', name), data);
      return `${httpUrl}/files/${name}`;
    },
    request,
    node,
    waitForNode: async (ident, what, done, timeoutS = 120) => {
      let last = await node(ident);
      for (let waited = 0; waited < timeoutS * 2 && !done(last); waited++) {
        await sleep(500);
        last = await node(ident);
      }
      if (!done(last))
        throw new Error(
          `node ${ident}: ${what} not reached in ${timeoutS} s; provision_state=${last.provision_state} ` +
            `power_state=${last.power_state} last_error=${last.last_error}`,
        );
      return last;
    },
    runExample: (file, extra) => {
      const path = join(IRONIC_EXAMPLES, file);
      if (!existsSync(path)) throw new Error(`no example ${path}`);
      return runFile('bash', ['-e', path], { ...env, ...extra }, 400_000);
    },
    baremetal: (args) => runFile(join(venv, 'bin', 'baremetal'), args, env, 120_000),
    logs,
    stop,
  };
}
