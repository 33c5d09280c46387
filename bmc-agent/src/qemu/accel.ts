// Accelerator choice: KVM only when a guest really makes progress under it. On some hosts /dev/kvm exists but
// guests crawl or hang (nested virtualisation): there SeaBIOS needs seconds to reach its boot attempt instead of
// ~0.2 s, so a bounded wait for that line tells a working KVM from a broken one.
import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';

export interface ProbeResult {
  accelerator: 'kvm' | 'tcg';
  reason: string;
}

// SeaBIOS prints this on its debug console once it has tried every boot device (none are attached).
const BOOT_ATTEMPT_DONE = 'No bootable device.';

/**
 * mode tcg: no probe. auto and kvm: probe; the result says TCG when KVM does not work (for kvm the caller
 * refuses to start rather than fall back).
 */
export async function chooseAccelerator(options: {
  mode: 'auto' | 'kvm' | 'tcg';
  qemuBinary: string;
  timeoutMs?: number;
  kvmDevice?: string;
}): Promise<ProbeResult> {
  if (options.mode === 'tcg')
    return { accelerator: 'tcg', reason: 'TCG configured (VM_ACCELERATOR=tcg or ENABLE_KVM=false)' };
  const device = options.kvmDevice ?? '/dev/kvm';
  try {
    await access(device, constants.R_OK | constants.W_OK);
  } catch {
    return { accelerator: 'tcg', reason: `${device} is not accessible` };
  }
  const timeoutMs = options.timeoutMs ?? 4_000;
  const ok = await guestProgresses(options.qemuBinary, timeoutMs);
  return ok.progressed
    ? { accelerator: 'kvm', reason: `KVM guest reached its boot attempt in ${ok.elapsedMs} ms` }
    : { accelerator: 'tcg', reason: `KVM guest made no progress within ${timeoutMs} ms (${ok.detail})` };
}

function guestProgresses(
  binary: string,
  timeoutMs: number,
): Promise<{ progressed: boolean; elapsedMs: number; detail: string }> {
  const argv = [
    '-accel',
    'kvm',
    '-machine',
    'q35',
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-m',
    '32',
    '-chardev',
    'stdio,id=probe',
    '-device',
    'isa-debugcon,iobase=0x402,chardev=probe',
  ];
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(binary, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let stderr = '';
    let done = false;
    const finish = (progressed: boolean, detail: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve({ progressed, elapsedMs: Date.now() - started, detail });
    };
    const timer = setTimeout(() => finish(false, 'timed out'), timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      output += chunk;
      if (output.includes(BOOT_ATTEMPT_DONE)) finish(true, 'ok');
      if (output.length > 1_000_000) output = output.slice(-1000);
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-500);
    });
    child.on('error', (err) => finish(false, err.message));
    child.on('exit', (code) => finish(false, `qemu exited with ${code}: ${stderr.trim().split('\n').pop() ?? ''}`));
  });
}
