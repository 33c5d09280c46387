// Helpers for the e2e suite: a step log with timings, the images the node runs, and the clients users run
// against a BMC (ipmitool, curl) with a bounded wait.
import { execFile } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AGENT_IMAGE, buildImage, OPERATOR_IMAGE, runCommand, waitFor } from '../container/support.ts';
import { guestFixture } from '../support/guest.ts';

export const repoRoot = resolve(import.meta.dirname, '../..');
/** The agent image plus the guest fixture and the in-band script: what the VirtualBMC's pod runs here. */
export const E2E_AGENT_IMAGE = 'qemu-bmc-agent-e2e:test';
export { AGENT_IMAGE, OPERATOR_IMAGE };

const stepLog = join(repoRoot, 'test-results', 'e2e-steps.log');
const suiteStarted = Date.now();
let stepNumber = 0;

function logLine(line: string): void {
  const stamped = `[e2e +${((Date.now() - suiteStarted) / 1000).toFixed(1).padStart(6)}s] ${line}`;
  console.log(stamped);
  mkdirSync(join(repoRoot, 'test-results'), { recursive: true });
  appendFileSync(stepLog, `${stamped}\n`);
}

export const progress = (line: string): void => logLine(`  ${line}`);

/** Runs one step of the user story, logging its start, its end and how long it took. */
export async function step<T>(name: string, body: () => Promise<T> | T): Promise<T> {
  const n = ++stepNumber;
  logLine(`step ${n}: ${name} ...`);
  const started = Date.now();
  try {
    const result = await body();
    logLine(`step ${n}: ${name}: ok in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    return result;
  } catch (error) {
    logLine(`step ${n}: ${name}: FAILED after ${((Date.now() - started) / 1000).toFixed(1)}s`);
    throw error;
  }
}

/** Polls until the check returns something other than undefined (bounded); the container suite's helper. */
export { waitFor as eventually };

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a client program without a shell; never throws on a non-zero exit (the caller asserts). */
export function client(cmd: string, args: string[], timeoutMs = 30_000): Promise<Run> {
  return new Promise((resolvePromise) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/**
 * Builds the agent and operator images from this tree (as the container suite does), and the e2e agent image on
 * top of the agent image: the guest fixture's kernel and initramfs, and the in-band script with its password.
 */
export function buildImages(maasPassword: string): void {
  buildImage('Dockerfile.agent', AGENT_IMAGE);
  buildImage('Dockerfile.operator', OPERATOR_IMAGE);
  const fixture = guestFixture();
  const context = mkdtempSync(join(tmpdir(), 'qemu-bmc-e2e-image-'));
  try {
    copyFileSync(fixture.kernel, join(context, 'vmlinuz'));
    copyFileSync(fixture.initrd, join(context, 'initramfs.cpio.gz'));
    const script = readFileSync(join(import.meta.dirname, 'maas-inband.guest.sh'), 'utf8');
    writeFileSync(join(context, 'maas-inband.sh'), `MAAS_PASSWORD='${maasPassword}'\n${script}`);
    writeFileSync(
      join(context, 'Dockerfile'),
      `FROM ${AGENT_IMAGE}\nCOPY vmlinuz initramfs.cpio.gz maas-inband.sh /guest/\n`,
    );
    const r = runCommand('docker', ['build', '-q', '-t', E2E_AGENT_IMAGE, context], 300_000);
    if (r.code !== 0) throw new Error(`docker build of ${E2E_AGENT_IMAGE} failed:\n${r.stdout}${r.stderr}`);
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

/**
 * QEMU arguments that boot the guest fixture from the e2e image: its console on the second serial port, appended to
 * a file in the pod (the first is the agent's SOL port), and the in-band script through fw_cfg. One word each: the
 * VirtualBMC's vm.extraArgs are single words.
 */
export const GUEST_LOG = '/tmp/guest-serial.log';
export const guestQemuArgs = [
  '-kernel',
  '/guest/vmlinuz',
  '-initrd',
  '/guest/initramfs.cpio.gz',
  '-append',
  'console=ttyS1',
  '-fw_cfg',
  'name=opt/qbmc/cmd,file=/guest/maas-inband.sh',
  '-chardev',
  `file,id=guestlog,path=${GUEST_LOG},append=on`,
  '-serial',
  'chardev:guestlog',
];

/** Statically provisioned hostPath volumes: this cluster has no storage provisioner. */
export function hostPathVolumes(dir: string, sizes: string[]): string {
  return sizes
    .map(
      (size, i) => `apiVersion: v1
kind: PersistentVolume
metadata:
  name: e2e-pv-${i}
spec:
  capacity: { storage: ${size} }
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Delete
  storageClassName: ""
  hostPath: { path: ${join(dir, `pv-${i}`)}, type: DirectoryOrCreate }
`,
    )
    .join('---\n');
}
