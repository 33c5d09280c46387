// CPU profile of the agent under one kind of load, summarised: `node bench/profile.ts ipmi|redfish|start`.
//   ipmi    - Get Device ID on one RMCP+ session (suite 3) for a few seconds
//   redfish - GET Systems/1 with a session token over 1 keep-alive connection
//   start   - spawn to the first Redfish 200 (cold STATE_DIR), then stop
// The agent runs with --cpu-prof; the summary lists self time by function and by file (node_modules packages
// grouped) and the .cpuprofile stays in the printed directory for Chrome DevTools / speedscope.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_PASS, AGENT_USER, redfishSession, startAgent } from './lib/agent.ts';
import { runLoad } from './lib/http-load.ts';
import { IpmiLanClient } from './lib/ipmi-client.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const mode = process.argv[2] ?? 'ipmi';
if (!['ipmi', 'redfish', 'start'].includes(mode)) {
  process.stderr.write('usage: node bench/profile.ts ipmi|redfish|start\n');
  process.exit(2);
}
const seconds = Number(process.env['BENCH_PROFILE_SECONDS'] ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'qemu-bmc-profile-'));
process.env['BENCH_AGENT_NODE_ARGS'] = `--cpu-prof --cpu-prof-dir=${dir} --cpu-prof-interval=200`;
const agent = await startAgent(process.cwd(), dir, mode);
process.stdout.write(`agent up in ${agent.firstOkMs.toFixed(0)} ms\n`);
if (mode === 'ipmi') {
  const client = await IpmiLanClient.connect('127.0.0.1', agent.ipmiPort);
  await client.open(AGENT_USER, AGENT_PASS, 3);
  let n = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    await client.command(0x06, 0x01);
    n++;
  }
  await client.closeSession();
  client.close();
  process.stdout.write(`${(n / seconds).toFixed(0)} commands/s while profiling\n`);
} else if (mode === 'redfish') {
  const token = await redfishSession(agent.redfishUrl, AGENT_USER, AGENT_PASS);
  const r = await runLoad({
    url: `${agent.redfishUrl}/redfish/v1/Systems/1`,
    headers: { 'X-Auth-Token': token },
    connections: 1,
    durationMs: seconds * 1000,
    warmupMs: 0,
  });
  process.stdout.write(`${r.rps.toFixed(0)} req/s, p99 ${r.p99Ms.toFixed(2)} ms while profiling\n`);
}
await agent.stop();

const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error(`no .cpuprofile in ${dir} (did the agent exit cleanly?)`);
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
profile.samples.forEach((id, i) => {
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
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
const top = (m: Map<string, number>, k: number): string =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, k)
    .map(
      ([name, us]) =>
        `  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}`,
    )
    .join('\n');
process.stdout.write(`\nself time, ${(total / 1000).toFixed(0)} ms sampled — by function:\n${top(fnTotals, 25)}\n`);
process.stdout.write(`\nby file / package:\n${top(fileTotals, 20)}\n\nprofile: ${join(dir, file)}\n`);
