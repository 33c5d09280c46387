// Summary of a V8 .cpuprofile: self time by function and by file, node_modules grouped by package.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export interface CpuProfile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Summarises the first .cpuprofile found in `dir`. */
/**
 * `fromUs`: only samples taken after this CLOCK_MONOTONIC time in microseconds (process.hrtime.bigint() / 1000n in
 * any process on the machine), e.g. to leave start-up out.
 */
export function summarizeProfileDir(dir: string, topFunctions = 25, topFiles = 20, fromUs = 0): string {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile in ${dir} (did the agent exit cleanly?)`);
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (at >= fromUs) self.set(id, (self.get(id) ?? 0) + delta);
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fnTotals = new Map<string, number>();
  const fileTotals = new Map<string, number>();
  const where = (url: string): string => {
    if (!url) return '(native/V8)';
    const nm = url.lastIndexOf('node_modules/');
    if (nm >= 0) {
      const rest = url.slice(nm + 'node_modules/'.length).split('/');
      return `npm:${rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
    }
    if (url.startsWith('node:')) return url;
    return url.replace(`file://${process.cwd()}/`, '');
  };
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const fn = `${n.callFrame.functionName || '(anonymous)'} ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
    fnTotals.set(fn, (fnTotals.get(fn) ?? 0) + us);
    const f = where(n.callFrame.url);
    fileTotals.set(f, (fileTotals.get(f) ?? 0) + us);
  }
  let out = '';
  const top = (m: Map<string, number>, k: number): string =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(
        ([name, us]) =>
          `  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}`,
      )
      .join('\n');
  out += `\nself time, ${(total / 1000).toFixed(0)} ms sampled — by function:\n${top(fnTotals, topFunctions)}\n`;
  out += `\nby file / package:\n${top(fileTotals, topFiles)}\n\nprofile: ${join(dir, file)}\n`;
  return out;
}

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

/** Summarises the first .heapprofile in `dir` (sampled live allocations at exit) by allocating function and file. */
export function summarizeHeapProfileDir(dir: string, top = 25): string {
  const file = readdirSync(dir).find((f) => f.endsWith('.heapprofile'));
  if (!file) throw new Error(`no .heapprofile in ${dir}`);
  const root = (JSON.parse(readFileSync(join(dir, file), 'utf8')) as { head: HeapNode }).head;
  const byFn = new Map<string, number>();
  const byFile = new Map<string, number>();
  const stack: HeapNode[] = [root];
  let total = 0;
  while (stack.length) {
    const n = stack.pop() as HeapNode;
    stack.push(...n.children);
    if (!n.selfSize) continue;
    total += n.selfSize;
    const url = n.callFrame.url;
    const nm = url.lastIndexOf('node_modules/');
    const where =
      nm >= 0
        ? `npm:${url
            .slice(nm + 13)
            .split('/')
            .slice(0, 2)
            .join('/')}`
        : url.replace(`file://${process.cwd()}/`, '') || '(native)';
    const fn = `${n.callFrame.functionName || '(anonymous)'} ${where}:${n.callFrame.lineNumber + 1}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + n.selfSize);
    byFile.set(where, (byFile.get(where) ?? 0) + n.selfSize);
  }
  const fmt = (m: Map<string, number>): string =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => `  ${(v / 2 ** 20).toFixed(1).padStart(7)} MiB  ${k}`)
      .join('\n');
  return `\nlive sampled heap ${(total / 2 ** 20).toFixed(1)} MiB — by allocating function:\n${fmt(byFn)}\n\nby file:\n${fmt(byFile)}\n`;
}
