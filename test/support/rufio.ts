/**
 * Tinkerbell Rufio, the real bmc.tinkerbell.org controller (Machine, Job, Task), as a local process against a test
 * cluster: startRufio applies Rufio's own CRDs, then runs the controller with the cluster's kubeconfig, leader
 * election off and its metrics and probe listeners disabled, logging to a file (logs() shows it on a failure).
 *
 * The binary and CRDs come from test/env/rufio.sh (`npm run bed -- rufio`), keyed by test/env/rufio/go.mod + go.sum.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { terminate } from './child.ts';
import type { CommandResult } from './cluster.ts';
import { requireFile } from './require.ts';

const installHint = 'npm run bed -- rufio';
const moduleDir = join(import.meta.dirname, '..', 'env', 'rufio');
const readyAttempts = 120; // x 500 ms

export interface RufioOptions {
  /** Kubeconfig the controller uses (an admin one: Rufio reads Secrets and writes Machine/Job/Task status). */
  kubeconfig: string;
  /** kubectl against the same cluster; used to apply Rufio's CRDs. */
  kubectl(args: string[], input?: string): Promise<CommandResult>;
}

export interface Rufio {
  /** Everything the controller printed so far (JSON lines). */
  logs(): string;
  /** SIGTERM, then SIGKILL after a grace period; removes the log dir. Safe to call twice. */
  stop(): Promise<void>;
}

/** The cache dir test/env/rufio.sh builds for the current pin: rufio-<sha256(go.mod + go.sum), 12 hex>. */
export function rufioDir(): string {
  const cache = process.env['QEMU_BMC_CACHE'] ?? join(homedir(), '.cache', 'qemu-bmc');
  const hash = createHash('sha256');
  for (const name of ['go.mod', 'go.sum']) hash.update(readFileSync(join(moduleDir, name)));
  return join(cache, `rufio-${hash.digest('hex').slice(0, 12)}`);
}

export async function startRufio(options: RufioOptions): Promise<Rufio> {
  const dir = rufioDir();
  const binary = requireFile(join(dir, 'bin', 'rufio'), installHint);
  const crdDir = requireFile(join(dir, 'crd'), installHint);
  const crds = readdirSync(crdDir).filter((name) => name.endsWith('.yaml'));
  if (crds.length === 0) throw new Error(`prerequisite missing: CRDs in ${crdDir}; build them with: ${installHint}`);

  await options.kubectl(['apply', '--server-side', '-f', crdDir]);
  await options.kubectl([
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    ...crds.map((name) => `crd/${name.replace(/^bmc\.tinkerbell\.org_(.*)\.yaml$/, '$1.bmc.tinkerbell.org')}`),
  ]);

  const logDir = mkdtempSync(join(tmpdir(), 'qemu-bmc-rufio-'));
  const logPath = join(logDir, 'rufio.log');
  const fd = openSync(logPath, 'a');
  // Rufio reads RUFIO_<FLAG> variables too: none may leak in from the caller's environment.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('RUFIO_')));
  const child = spawn(
    binary,
    [
      `--kubeconfig=${options.kubeconfig}`,
      '--leader-elect=false',
      '--metrics-bind-address=0',
      '--health-probe-bind-address=0',
      '--bmc-connect-timeout=30s',
    ],
    { env, stdio: ['ignore', fd, fd] },
  );
  closeSync(fd);
  const killNow = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', killNow);

  let finalLogs: string | undefined;
  const logs = (): string => finalLogs ?? readLog(logPath);
  const stop = async (): Promise<void> => {
    if (finalLogs !== undefined) return;
    await terminate(child);
    process.removeListener('exit', killNow);
    finalLogs = readLog(logPath);
    rmSync(logDir, { recursive: true, force: true });
  };

  try {
    // Ready once the Machine, Job and Task controllers have started their workers.
    for (let attempt = 0; ; attempt++) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`rufio exited (${child.exitCode ?? child.signalCode}) while starting`);
      if ((logs().match(/Starting workers/g) ?? []).length >= 3) break;
      if (attempt >= readyAttempts) throw new Error('rufio did not start its controllers in time');
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } catch (error) {
    const tail = logs().split('\n').slice(-40).join('\n');
    await stop();
    throw new Error(`${(error as Error).message}; rufio log tail:\n${tail}`);
  }
  return { logs, stop };
}

function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
