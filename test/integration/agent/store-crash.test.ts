// A writer killed with SIGKILL in the middle of a burst of updates leaves a state file that is either the old
// state or one of the new ones, always complete and valid; the next open cleans its temp file away.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BmcSeed } from '../../../bmc-agent/src/bmc/defaults.ts';
import { FileBmcStore, STATE_FILE_NAME } from '../../../bmc-agent/src/bmc/store.ts';

const storeModule = resolve(import.meta.dirname, '../../../bmc-agent/src/bmc/store.ts');
const seed: BmcSeed = {
  adminUser: 'admin',
  adminPassword: 'pw',
  address: '10.0.0.1',
  macAddress: '02:00:00:00:00:03',
  powerRestorePolicy: 'previous',
};

// The child bumps the VLAN id (and pads a user's name, so each file is large enough to take a while) forever.
const writer = `
import { FileBmcStore } from ${JSON.stringify(storeModule)};
const store = await FileBmcStore.open({ path: process.argv[1], seed: JSON.parse(process.argv[2]) });
process.stdout.write('ready\\n');
for (let i = 1; ; i++) {
  await store.update((d) => {
    d.lan.vlanId = i % 4000;
    d.bootParams[i % 100] = 'ab'.repeat(200);
  });
  if (i === 20) process.stdout.write('writing\\n');
}
`;

let dir: string;
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('FileBmcStore crash safety', () => {
  it('survives SIGKILL mid-write, repeatedly', async () => {
    dir = await mkdtemp(join(tmpdir(), 'store-crash-'));
    const path = join(dir, STATE_FILE_NAME);
    for (let round = 0; round < 5; round++) {
      const child = spawn(process.execPath, ['--input-type=module', '-e', writer, path, JSON.stringify(seed)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
      });
      await new Promise<void>((resolveWriting, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('writing')) resolveWriting();
        });
        child.once('exit', (code) => reject(new Error(`writer exited early (${code}): ${err}`)));
      });
      // Let it run a little more (a varying amount each round) so the kill lands anywhere in the write cycle.
      await new Promise((r) => setTimeout(r, 20 + round * 37));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));

      const raw = await readFile(path, 'utf8');
      expect(() => JSON.parse(raw)).not.toThrow();
      const store = await FileBmcStore.open({ path, seed });
      expect(store.state().lan.vlanId).toBeGreaterThan(0);
      expect((await readdir(dir)).filter((f) => f !== STATE_FILE_NAME)).toEqual([]);
    }
  });
});
