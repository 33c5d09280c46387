import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type QemuInstance, type QemuOptions, startQemu } from './qemu.ts';
import { requireFile } from './require.ts';

// Boots the guest fixture built by test/env/guest.sh: a Debian kernel whose /init runs a test's shell
// script and prints its output on ttyS0 between QBMC-BEGIN and QBMC-END rc=<n> (see test/env/guest/init).

const guestScript = resolve(import.meta.dirname, '../env/guest.sh');
const buildHint = 'bash test/env/guest.sh';
/** x86 kernel command lines stop at 2048 bytes; longer scripts go through fw_cfg. */
const maxCmdlineScript = 1500;

export interface GuestFixture {
  dir: string;
  kernel: string;
  initrd: string;
}

/** The fixture for the current inputs; fails loudly (never skips) when it has not been built. */
export function guestFixture(): GuestFixture {
  const dir = execFileSync('bash', [guestScript, '--dir'], { encoding: 'utf8' }).trim();
  return {
    dir,
    kernel: requireFile(join(dir, 'vmlinuz'), buildHint),
    initrd: requireFile(join(dir, 'initramfs.cpio.gz'), buildHint),
  };
}

export interface GuestBootOptions extends Omit<QemuOptions, 'serial'> {
  /** Shell script run by the guest's init (busybox sh, ipmitool on PATH, /dev/ipmi0 when a KCS device exists). */
  script: string;
  /** Keep the guest running after the script instead of powering off. */
  stay?: boolean;
  /** After the script, run an interactive shell on ttyS0 (implies stay). */
  shell?: boolean;
  /** Force script delivery through QEMU fw_cfg instead of the kernel command line. */
  viaFwCfg?: boolean;
  /** Extra kernel command line words (e.g. module parameters such as ipmi_si.kipmid_max_busy_us=0). */
  kernelArgs?: string[];
}

export interface GuestResult {
  /** What the script printed (stdout and stderr), LF line ends. */
  output: string;
  exitCode: number;
}

export interface BootedGuest {
  qemu: QemuInstance;
  /** Resolves when the script has finished; rejects on timeout, a guest error or an early QEMU exit. */
  result(timeoutMs: number): Promise<GuestResult>;
  stop(): Promise<void>;
}

const endMarker = /^QBMC-END rc=(\d+)$/m;
const errorMarker = /^QBMC-ERROR (.*)$/m;

export async function bootGuest(options: GuestBootOptions): Promise<BootedGuest> {
  const fixture = guestFixture();
  const { script, stay, shell, viaFwCfg, kernelArgs = [], args = [], ...qemuOptions } = options;
  if (script.trim() === '') throw new Error('bootGuest: the script is empty');
  const badWord = kernelArgs.find((word) => !/^[\w.,:=/-]+$/.test(word) || word.startsWith('qbmc.'));
  if (badWord !== undefined) throw new Error(`bootGuest: kernel argument not allowed: ${JSON.stringify(badWord)}`);
  const encoded = Buffer.from(script, 'utf8').toString('base64');
  const append = ['console=ttyS0', 'quiet', 'panic=-1', ...kernelArgs];
  if (stay || shell) append.push('qbmc.stay=1');
  if (shell) append.push('qbmc.shell=1');

  let scriptDir: string | null = null;
  const fwCfg: string[] = [];
  if (viaFwCfg || encoded.length > maxCmdlineScript) {
    scriptDir = mkdtempSync(join(tmpdir(), 'qemu-bmc-guest-'));
    const scriptFile = join(scriptDir, 'cmd.sh');
    writeFileSync(scriptFile, script);
    fwCfg.push('-fw_cfg', `name=opt/qbmc/cmd,file=${scriptFile}`);
  } else {
    append.push(`qbmc.cmd=${encoded}`);
  }

  const cleanScript = () => {
    if (scriptDir) rmSync(scriptDir, { recursive: true, force: true });
  };
  let qemu: QemuInstance;
  try {
    qemu = await startQemu({
      ...qemuOptions,
      serial: 'stdio',
      args: [
        '-no-reboot',
        '-kernel',
        fixture.kernel,
        '-initrd',
        fixture.initrd,
        '-append',
        append.join(' '),
        ...fwCfg,
        ...args,
      ],
    });
  } catch (error) {
    cleanScript();
    throw error;
  }
  void qemu.exited.then(cleanScript);

  return {
    qemu,
    async result(timeoutMs) {
      const serial = await qemu.waitForSerial(/^QBMC-(END rc=\d+|ERROR .*)$/m, timeoutMs);
      const problem = errorMarker.exec(serial);
      if (problem) throw new Error(`guest: ${problem[1]}`);
      return parseGuestOutput(serial);
    },
    async stop() {
      await qemu.stop();
      cleanScript();
    },
  };
}

/** Boots, runs the script, waits for the guest to power off, and returns what the script printed. */
export async function runInGuest(
  script: string,
  options: Omit<GuestBootOptions, 'script' | 'stay' | 'shell'> & { timeoutMs?: number } = {},
): Promise<GuestResult> {
  const { timeoutMs = 120_000, ...bootOptions } = options;
  const guest = await bootGuest({ ...bootOptions, script });
  try {
    const result = await guest.result(timeoutMs);
    await guest.qemu.waitForExit(30_000);
    return result;
  } finally {
    await guest.stop();
  }
}

/** Extracts the script's output from serial text holding the QBMC markers. */
export function parseGuestOutput(serial: string): GuestResult {
  const text = serial.replace(/\r\n/g, '\n');
  const begin = text.indexOf('QBMC-BEGIN\n');
  const end = endMarker.exec(text);
  if (begin < 0 || !end || end.index < begin)
    throw new Error(`guest output has no QBMC markers:\n${text.slice(-2000)}`);
  return { output: text.slice(begin + 'QBMC-BEGIN\n'.length, end.index), exitCode: Number(end[1]) };
}
