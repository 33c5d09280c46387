// Crash-safe file replacement: a reader sees the old content or the new one, never a mix.
import { open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

const TEMP_MARKER = '.tmp-';

/** Writes to a temp file in the same directory, fsyncs it, renames it over `path`, then fsyncs the directory. */
export async function writeFileAtomic(path: string, data: string, mode = 0o600): Promise<void> {
  const temp = `${path}${TEMP_MARKER}${process.pid}-${Date.now()}`;
  const file = await open(temp, 'wx', mode);
  try {
    await file.writeFile(data, 'utf8');
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** Removes temp files a crashed writer left behind; they were never renamed, so they never held committed state. */
export async function removeStaleTemps(path: string): Promise<string[]> {
  const prefix = basename(path) + TEMP_MARKER;
  const stale = (await readdir(dirname(path))).filter((name) => name.startsWith(prefix));
  for (const name of stale) await rm(join(dirname(path), name), { force: true });
  return stale;
}
