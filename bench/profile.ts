// CPU profile of the agent under one kind of load, summarised: `node bench/profile.ts ipmi|redfish|start`.
//   ipmi    - Get Device ID on one RMCP+ session (suite 3), precomputed requests, 8 in flight, for a few seconds
//   session - full RMCP+ sessions (open, RAKP, Get Device ID, close) in a loop
//   redfish - GET Systems/1 with a session token over 1 keep-alive connection
//   start   - spawn to the first Redfish 200 (cold STATE_DIR), then stop
// The agent runs with --cpu-prof; the summary lists self time by function and by file (node_modules packages
// grouped) and the .cpuprofile stays in the printed directory for Chrome DevTools / speedscope.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENT_PASS, AGENT_USER, redfishSession, startAgent } from './lib/agent.ts';
import { summarizeProfileDir } from './lib/cpuprof.ts';
import { runLoad } from './lib/http-load.ts';
import { IpmiLanClient } from './lib/ipmi-client.ts';

const mode = process.argv[2] ?? 'ipmi';
if (!['ipmi', 'session', 'redfish', 'start'].includes(mode)) {
  process.stderr.write('usage: node bench/profile.ts ipmi|session|redfish|start\n');
  process.exit(2);
}
const seconds = Number(process.env['BENCH_PROFILE_SECONDS'] ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'qemu-bmc-profile-'));
process.env['BENCH_AGENT_NODE_ARGS'] = `--cpu-prof --cpu-prof-dir=${dir} --cpu-prof-interval=200`;
const agent = await startAgent(process.cwd(), dir, mode);
process.stdout.write(`agent up in ${agent.firstOkMs.toFixed(0)} ms\n`);
// Leave start-up out of the summary, except in `start` mode.
const loadFromUs = mode === 'start' ? 0 : Number(process.hrtime.bigint() / 1000n);
if (mode === 'ipmi') {
  // The precomputing generator (as bench/ipmi.ts): requests built first, 8 in flight, so the agent is kept busy.
  const client = await IpmiLanClient.connect('127.0.0.1', agent.ipmiPort);
  await client.open(AGENT_USER, AGENT_PASS, 3);
  const packets = client.prepare(Math.min(400_000, seconds * 40_000), 0x06, 0x01);
  const r = await client.pipeline(packets, 8, seconds * 1000);
  await new Promise((resolve) => setTimeout(resolve, 50));
  await client.closeSession();
  client.close();
  process.stdout.write(`${(r.replies.length / (r.elapsedMs / 1000)).toFixed(0)} commands/s while profiling\n`);
} else if (mode === 'session') {
  let n = 0;
  const times: number[] = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const client = await IpmiLanClient.connect('127.0.0.1', agent.ipmiPort);
    const t = performance.now();
    await client.open(AGENT_USER, AGENT_PASS, 3);
    await client.command(0x06, 0x01);
    await client.closeSession();
    times.push(performance.now() - t);
    client.close();
    n++;
  }
  times.sort((a, b) => a - b);
  process.stdout.write(
    `${(n / seconds).toFixed(0)} sessions/s while profiling, p50 ${times[Math.floor(n / 2)]?.toFixed(2)} ms\n`,
  );
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

process.stdout.write(summarizeProfileDir(dir, 25, 20, loadFromUs));
