// Creates the VM disk with qemu-img, only when VM_DISK_SIZE asks for it and the file does not exist yet.
import { execFile } from 'node:child_process';
import { access, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export function diskFormat(path: string): 'qcow2' | 'raw' {
  return /\.qcow2$/i.test(path) ? 'qcow2' : 'raw';
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Returns 'created', 'exists' or 'missing' (no size configured: the VM starts without this disk). */
export async function ensureDisk(
  path: string,
  size: string | null,
  qemuImg = 'qemu-img',
): Promise<'created' | 'exists' | 'missing'> {
  if (await exists(path)) return 'exists';
  if (size === null) return 'missing';
  await mkdir(dirname(path), { recursive: true });
  await run(qemuImg, ['create', '-q', '-f', diskFormat(path), path, size], { timeout: 60_000 });
  return 'created';
}
