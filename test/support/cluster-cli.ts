/**
 * The test cluster for shell scripts and people: starts it, prints where the kubeconfig is, and keeps it running in
 * the foreground until SIGINT/SIGTERM, then stops it and removes everything.
 *
 *   node test/support/cluster-cli.ts [--kwok] [--node] [--kubeconfig-link PATH]
 *   (--node: a real node on this host, see test/support/node.ts)
 *
 * First line on stdout: `export KUBECONFIG=<path>` (with --kubeconfig-link, PATH becomes a symlink to it).
 */
import { rmSync, symlinkSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startCluster } from './cluster.ts';

const { values } = parseArgs({
  options: {
    kwok: { type: 'boolean', default: false },
    node: { type: 'boolean', default: false },
    'kubeconfig-link': { type: 'string' },
  },
  strict: true,
});

// Progress goes to stderr: the first stdout line is the export.
const cluster = await startCluster({ kwok: values.kwok, node: values.node, log: (line) => console.error(line) });
const link = values['kubeconfig-link'];
if (link !== undefined) {
  rmSync(link, { force: true });
  symlinkSync(cluster.kubeconfig, link);
}
process.stdout.write(
  `export KUBECONFIG=${cluster.kubeconfig}\n# server ${cluster.server}; binaries in ${cluster.binDir}\n`,
);

let stopping = false;
const shutdown = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await cluster.stop();
  if (link !== undefined) rmSync(link, { force: true });
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
// Keeps the event loop alive until a signal arrives.
setInterval(() => {}, 1 << 30);
