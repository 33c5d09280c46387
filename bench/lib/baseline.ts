// The regression baseline: bmc-agent as it was before its latest change, checked out into a temp git worktree
// (detached, removed afterwards) with this checkout's node_modules linked in.
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileAsync } from './proc.ts';

export interface Baseline {
  rev: string;
  short: string;
  subject: string;
  root: string;
  remove(): Promise<void>;
}

async function git(args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('git', args, { cwd: process.cwd() });
  return stdout.trim();
}

/**
 * BENCH_BASELINE=<rev> picks the commit; by default the parent of the newest commit that touched bmc-agent/,
 * so the comparison is always "the agent before its latest change".
 */
export async function resolveBaselineRev(): Promise<string> {
  const explicit = process.env['BENCH_BASELINE'];
  if (explicit) return git(['rev-parse', '--verify', `${explicit}^{commit}`]);
  const latest = await git(['log', '-n', '1', '--format=%H', 'HEAD', '--', 'bmc-agent']);
  return git(['rev-parse', '--verify', `${latest}^`]);
}

export async function checkoutBaseline(): Promise<Baseline> {
  const rev = await resolveBaselineRev();
  const short = await git(['rev-parse', '--short', rev]);
  const subject = await git(['log', '-n', '1', '--format=%s', rev]);
  const root = join(mkdtempSync(join(tmpdir(), 'qemu-bmc-bench-baseline-')), 'tree');
  await git(['worktree', 'add', '--detach', '--quiet', root, rev]);
  symlinkSync(join(process.cwd(), 'node_modules'), join(root, 'node_modules'));
  return {
    rev,
    short,
    subject,
    root,
    remove: async () => {
      await git(['worktree', 'remove', '--force', root]).catch(() => undefined);
      rmSync(join(root, '..'), { recursive: true, force: true });
      await git(['worktree', 'prune']).catch(() => undefined);
    },
  };
}

export async function headInfo(): Promise<{ rev: string; short: string; dirty: boolean }> {
  const rev = await git(['rev-parse', 'HEAD']);
  const short = await git(['rev-parse', '--short', 'HEAD']);
  const status = await git(['status', '--porcelain', '--', 'bmc-agent', 'operator']);
  return { rev, short, dirty: status.length > 0 };
}
