// Markdown tables and a hand-made SVG chart (horizontal bar panels) from one run's results.
import type { BenchResults } from './types.ts';

const f = (v: number, digits = 1): string => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');

function table(head: string[], rows: (string | number)[][]): string {
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`];
  for (const r of rows) lines.push(`| ${r.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`);
  return lines.join('\n');
}

export function markdown(r: BenchResults, svgName: string): string {
  const out: string[] = [];
  out.push(
    `# qemu-bmc benchmarks — ${r.date}${r.quick ? ' (quick)' : ''}`,
    '',
    `HEAD ${r.head.short}${r.head.dirty ? ' + uncommitted changes in bmc-agent/ or operator/' : ''}; ` +
      `${r.machine.cpus} CPUs, ${f(r.machine.memGiB, 0)} GiB, Node ${r.machine.node}; ` +
      `load average ${r.machine.loadBefore.map((v) => f(v, 2)).join(' ')} before, ` +
      `${r.machine.loadAfter.map((v) => f(v, 2)).join(' ')} after (shared machine: other jobs were running).`,
    '',
    `![chart](${svgName})`,
    '',
  );
  if (r.targets.length) {
    out.push('## Targets', '');
    out.push(
      table(
        ['part', 'target', 'measured', 'ratio', 'met', 'note'],
        r.targets.map((t) => [
          t.part,
          t.target,
          t.measured,
          t.ratio,
          t.met === 'n/a' ? 'n/a' : t.met ? 'yes' : '**no**',
          t.note ?? '',
        ]),
      ),
      '',
    );
  }
  if (r.redfish) {
    out.push('## Redfish: GET Systems/1 over HTTPS keep-alive', '');
    out.push(
      table(
        ['server', 'auth', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'errors'],
        r.redfish.rows.map((row) => [
          row.server,
          row.auth,
          row.connections,
          f(row.rps, 0),
          f(row.p50Ms, 2),
          f(row.p99Ms, 2),
          row.errors ? `${row.errors} (${row.firstError ?? ''})` : 0,
        ]),
      ),
      '',
      ...r.redfish.notes.map((n) => `- ${n}`),
      '',
    );
  }
  if (r.ipmi) {
    out.push(`## IPMI over LAN (RMCP+, cipher suite ${r.ipmi.cipherSuite})`, '', '### Full sessions', '');
    out.push(
      table(
        ['server · driver', 'sessions', 'failures', 'sessions/s', 'p50 ms', 'p99 ms', 'server CPU µs/session'],
        r.ipmi.sessions.map((s) => [
          s.server,
          s.sessions,
          s.failures ? `${s.failures} (${s.firstError ?? ''})` : 0,
          f(s.perSecond),
          f(s.p50Ms),
          f(s.p99Ms),
          s.serverCpuUsPerSession === undefined ? '—' : f(s.serverCpuUsPerSession, 0),
        ]),
      ),
      '',
      ...(r.ipmi.pipeline
        ? [
            '### Commands on one established session, precomputed requests (Get Device ID)',
            '',
            table(
              [
                'server',
                'in flight',
                'commands/s',
                'server CPU µs/command',
                'replies (prepared)',
                'lost',
                'bad / verified',
                'prepare ms',
              ],
              r.ipmi.pipeline.map((p) => [
                p.server,
                p.window,
                f(p.perSecond, 0),
                f(p.serverCpuUsPerCommand),
                `${p.commands} (${p.prepared})`,
                p.lost,
                `${p.badReplies} / ${p.verified}${p.firstError ? ` (${p.firstError})` : ''}`,
                f(p.prepareMs, 0),
              ]),
            ),
            '',
          ]
        : []),
      '### Commands on established sessions, old method (live TS console, one in flight per session)',
      '',
      table(
        ['server', 'sessions', 'commands', 'errors', 'commands/s', 'p50 ms', 'p99 ms', 'server CPU µs/command'],
        r.ipmi.commands.map((c) => [
          c.server,
          c.sessions,
          c.commands,
          c.errors ? `${c.errors} (${c.firstError ?? ''})` : 0,
          f(c.perSecond, 0),
          f(c.p50Ms, 3),
          f(c.p99Ms, 3),
          c.serverCpuUsPerCommand === undefined ? '—' : f(c.serverCpuUsPerCommand),
        ]),
      ),
      '',
      ...r.ipmi.notes.map((n) => `- ${n}`),
      '',
    );
  }
  if (r.footprint) {
    out.push('## Agent footprint (QEMU excluded)', '');
    out.push(
      table(
        ['process', 'start → first 200 (ms, each run)', 'RSS idle MiB', 'RSS under load MiB', 'peak RSS MiB'],
        r.footprint.rows.map((row) => [
          row.server,
          row.startMs.map((v) => f(v, 0)).join(', '),
          f(row.rssIdleMiB),
          f(row.rssLoadMiB),
          f(row.rssPeakMiB),
        ]),
      ),
      '',
      ...r.footprint.notes.map((n) => `- ${n}`),
      '',
    );
  }
  if (r.operator) {
    out.push('## Operator scale (kube-apiserver + etcd + kwok)', '');
    out.push(
      table(
        [
          'N',
          'steady s',
          'operator RSS MiB (peak)',
          'operator CPU s',
          'apiserver requests, all clients (by verb)',
          'operator requests per VirtualBMC (by verb)',
          'idle writes',
          'idle Lease writes',
          'idle CPU s',
        ],
        r.operator.rows.map((row) => [
          row.count,
          row.steadySeconds === null ? `not steady (${row.error ?? ''})` : f(row.steadySeconds),
          `${f(row.operatorRssMiB, 0)} (${f(row.operatorPeakRssMiB, 0)})`,
          f(row.operatorCpuSeconds),
          Object.entries(row.apiRequestsByVerb)
            .sort((a, b) => b[1] - a[1])
            .map(([k, v]) => `${k} ${v}`)
            .join(', '),
          Object.entries(row.operatorRequestsPerVbmc)
            .sort((a, b) => b[1] - a[1])
            .map(([k, v]) => `${k} ${f(v, 2)}`)
            .join(', '),
          Number.isFinite(row.idleWrites)
            ? `${row.idleWrites}${row.idleWriteSamples.length ? ` (${row.idleWriteSamples.join('; ')})` : ''}`
            : 'n/a',
          Number.isFinite(row.idleLeaseWrites) ? row.idleLeaseWrites : 'n/a',
          f(row.idleCpuSeconds, 2),
        ]),
      ),
      '',
      ...r.operator.notes.map((n) => `- ${n}`),
      '',
    );
  }
  if (r.errors.length) out.push('## Errors', '', ...r.errors.map((e) => `- ${e}`), '');
  return `${out.join('\n')}\n`;
}

interface Bar {
  label: string;
  value: number;
  ours: boolean;
}

interface Panel {
  title: string;
  unit: string;
  bars: Bar[];
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Vertical stack of horizontal bar panels; our bars in blue, peers in grey. Linear scale per panel. */
export function svg(r: BenchResults): string {
  const panels: Panel[] = [];
  if (r.redfish) {
    for (const c of [1, 64]) {
      panels.push({
        title: `Redfish GET Systems/1, ${c} connection${c > 1 ? 's' : ''}: throughput`,
        unit: 'req/s',
        bars: r.redfish.rows
          .filter((row) => row.connections === c)
          .map((row) => ({
            label: `${row.server} · ${row.auth}`,
            value: row.rps,
            ours: row.server.startsWith('qemu'),
          })),
      });
    }
    panels.push({
      title: 'Redfish p99 latency at 1 connection (target < 5 ms)',
      unit: 'ms',
      bars: r.redfish.rows
        .filter((row) => row.connections === 1)
        .map((row) => ({
          label: `${row.server} · ${row.auth}`,
          value: row.p99Ms,
          ours: row.server.startsWith('qemu'),
        })),
    });
  }
  if (r.ipmi) {
    panels.push({
      title: 'IPMI full sessions (open, RAKP, Get Device ID, close)',
      unit: 'sessions/s',
      bars: r.ipmi.sessions.map((s) => ({ label: s.server, value: s.perSecond, ours: s.server.startsWith('qemu') })),
    });
    const pipeline = r.ipmi.pipeline;
    if (pipeline)
      panels.push({
        title: 'IPMI commands on one session, precomputed requests (1 and 8 in flight)',
        unit: 'commands/s',
        bars: pipeline.map((p) => ({
          label: `${p.server} · ${p.window} in flight`,
          value: p.perSecond,
          ours: p.server.startsWith('qemu'),
        })),
      });
    panels.push({
      title: 'IPMI commands on established sessions, old method (1 and 4 sessions)',
      unit: 'commands/s',
      bars: r.ipmi.commands.map((c) => ({
        label: `${c.server} · ${c.sessions} session${c.sessions > 1 ? 's' : ''}`,
        value: c.perSecond,
        ours: c.server.startsWith('qemu'),
      })),
    });
  }
  if (r.footprint) {
    panels.push({
      title: 'RSS idle / under load (target < 60 MB idle)',
      unit: 'MiB',
      bars: r.footprint.rows
        .filter((row) => !row.server.includes('cold'))
        .flatMap((row) => [
          {
            label: `${row.server.replace(' (warm start)', '')} idle`,
            value: row.rssIdleMiB,
            ours: row.server.startsWith('qemu'),
          },
          {
            label: `${row.server.replace(' (warm start)', '')} load`,
            value: row.rssLoadMiB,
            ours: row.server.startsWith('qemu'),
          },
        ]),
    });
    panels.push({
      title: 'Start to first Redfish 200, median (target < 500 ms)',
      unit: 'ms',
      bars: r.footprint.rows.map((row) => {
        const s = [...row.startMs].sort((a, b) => a - b);
        return {
          label: row.server,
          value: s[Math.floor((s.length - 1) / 2)] ?? Number.NaN,
          ours: row.server.startsWith('qemu'),
        };
      }),
    });
  }
  if (r.operator) {
    panels.push({
      title: 'Operator: time to steady state (target < 120 s at 1000)',
      unit: 's',
      bars: r.operator.rows.map((row) => ({
        label: `N = ${row.count}`,
        value: row.steadySeconds ?? Number.NaN,
        ours: true,
      })),
    });
    panels.push({
      title: 'Operator peak RSS (target < 250 MB at 1000)',
      unit: 'MiB',
      bars: r.operator.rows.map((row) => ({ label: `N = ${row.count}`, value: row.operatorPeakRssMiB, ours: true })),
    });
  }
  const width = 900;
  const labelW = 300;
  const barH = 18;
  const gap = 6;
  const plotW = width - labelW - 130;
  let y = 40;
  const parts: string[] = [];
  parts.push(
    `<text x="10" y="24" font-size="16" font-weight="bold">qemu-bmc benchmarks ${esc(r.date)}${r.quick ? ' (quick)' : ''} — load ${r.machine.loadBefore.map((v) => v.toFixed(1)).join(' ')}</text>`,
  );
  parts.push(
    `<rect x="10" y="34" width="12" height="12" fill="#2b6cb0"/><text x="27" y="44" font-size="11">qemu-bmc</text>`,
    `<rect x="100" y="34" width="12" height="12" fill="#a0aec0"/><text x="117" y="44" font-size="11">peers (sushy-tools, ipmi_sim, pyghmi)</text>`,
    '<text x="340" y="44" font-size="11">linear scale per panel</text>',
  );
  y += 14;
  for (const p of panels) {
    y += 18;
    parts.push(`<text x="10" y="${y}" font-size="13" font-weight="bold">${esc(p.title)}</text>`);
    y += 8;
    const max = Math.max(1e-9, ...p.bars.map((b) => (Number.isFinite(b.value) ? b.value : 0)));
    for (const b of p.bars) {
      const w = Number.isFinite(b.value) ? Math.max(1, (b.value / max) * plotW) : 0;
      parts.push(
        `<text x="${labelW - 6}" y="${y + barH - 5}" font-size="11" text-anchor="end">${esc(b.label)}</text>`,
        `<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${b.ours ? '#2b6cb0' : '#a0aec0'}"/>`,
        `<text x="${labelW + w + 4}" y="${y + barH - 5}" font-size="11">${Number.isFinite(b.value) ? esc(formatValue(b.value)) : 'n/a'} ${esc(p.unit)}</text>`,
      );
      y += barH + gap;
    }
    y += 8;
  }
  const height = y + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

function formatValue(v: number): string {
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}
