import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

// The Python peers' venv that test/env/python.sh builds: sushy, pyghmi, the DMTF validators, sushy-tools, virtualbmc.

const installHint = 'npm run bed -- python';
const envDir = join(import.meta.dirname, '..', 'env');
const pinnedFiles = ['requirements-peers.txt', 'constraints-peers.txt'];

export interface PythonPeers {
  /** The venv's root. */
  readonly venv: string;
  /** Its interpreter: run `python -c` or `python -m` with it. */
  readonly python: string;
  /** Path of a console script the venv installed (vbmc, sushy-emulator, rf_service_validator, ...). */
  bin(name: string): string;
}

/**
 * The key python.sh computes with `sha256sum FILES | sha256sum | cut -c1-12`: the lines sha256sum prints
 * (hash, two spaces, name), hashed again. A changed pin then reads as a stale venv, not a confusing import error.
 */
function venvKey(): string {
  const listing = pinnedFiles.map((name) => `${sha256Hex(readFileSync(join(envDir, name)))}  ${name}\n`).join('');
  return sha256Hex(listing).slice(0, 12);
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Fails loudly (never skips) unless the venv exists and matches the pinned requirements. */
export function requirePythonPeers(): PythonPeers {
  const cache = process.env.QEMU_BMC_CACHE ?? join(homedir(), '.cache', 'qemu-bmc');
  const key = venvKey();
  const venv = join(cache, `venv-${key}`);
  const marker = join(venv, '.bed-complete');
  if (!existsSync(marker) || readFileSync(marker, 'utf8').trim() !== key) {
    throw new Error(`prerequisite missing: Python peers venv ${venv} (absent or stale); build it with: ${installHint}`);
  }
  const bin = (name: string): string => {
    if (!/^[\w.-]+$/.test(name)) throw new Error(`python peers: not a console script name: ${JSON.stringify(name)}`);
    const path = join(venv, 'bin', name);
    if (!existsSync(path)) throw new Error(`prerequisite missing: ${path}; build it with: ${installHint}`);
    return path;
  };
  return { venv, python: bin('python'), bin };
}
