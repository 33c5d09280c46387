import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';

// The Go client drivers of test/compat/ that test/env/go-peers.sh builds: gofish-driver and bmclib-driver.

const installHint = 'npm run bed -- go-peers';
const compatDir = join(import.meta.dirname, '..', 'compat');

export type GoDriver = 'gofish-driver' | 'bmclib-driver';

export interface DriverRun {
  /** Process exit code: 0 success, 1 the service failed, 2 bad usage. */
  code: number;
  /** The one JSON object the driver prints; always has `ok`, and `error` when ok is false. */
  result: { ok: boolean; error?: string } & Record<string, unknown>;
  stderr: string;
}

/** Every go.mod, go.sum and .go file under test/compat as `./path`, in byte order (like `LC_ALL=C sort`). */
function sourceFiles(dir = compatDir): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(path));
    else if (/\.go$|^go\.(mod|sum)$/.test(entry.name)) files.push(`./${relative(compatDir, path)}`);
  }
  return dir === compatDir ? files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) : files;
}

/** The key go-peers.sh computes: `sha256sum` over the sources (hash, two spaces, path), hashed again, 12 hex. */
function driversKey(): string {
  const listing = sourceFiles()
    .map((path) => `${sha256Hex(readFileSync(join(compatDir, path)))}  ${path}\n`)
    .join('');
  return sha256Hex(listing).slice(0, 12);
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Path of a driver built from the current sources; fails loudly (never skips) when it is missing or stale. */
export function requireGoDriver(name: GoDriver): string {
  const cache = process.env.QEMU_BMC_CACHE ?? join(homedir(), '.cache', 'qemu-bmc');
  const path = join(cache, `go-peers-${driversKey()}`, 'bin', name);
  if (!existsSync(path)) {
    throw new Error(
      `prerequisite missing: ${path} (absent, or test/compat changed since); build it with: ${installHint}`,
    );
  }
  return path;
}

/** Runs a driver and parses its JSON answer; never rejects on a non-zero exit (tests assert on `code`). */
export function runDriver(path: string, args: readonly string[], timeoutMs = 90_000): Promise<DriverRun> {
  return new Promise((resolve, reject) => {
    execFile(path, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      const line = stdout.trim().split('\n').at(-1) ?? '';
      try {
        resolve({ code, result: JSON.parse(line) as DriverRun['result'], stderr });
      } catch {
        reject(new Error(`${path} ${args.join(' ')}: exit ${code}, no JSON on stdout: ${stdout}${stderr}`));
      }
    });
  });
}
