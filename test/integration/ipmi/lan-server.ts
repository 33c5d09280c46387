// A stand-alone IPMI LAN listener for tests that need it in another process (e.g. on port 623 inside a private
// network namespace): a temp FileBmcStore (admin/password), an inert machine, `PORT` from the environment.
// Prints "ready <port>" once bound; stops on SIGTERM.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { FileBmcStore } from '../../../bmc-agent/src/bmc/store.ts';
import { startIpmiLan } from '../../../bmc-agent/src/ipmi/lan.ts';
import { silentLogger } from '../../../bmc-agent/src/log.ts';
import { inertMachine } from '../../unit/ipmi/session/support.ts';

const dir = mkdtempSync(join(tmpdir(), 'ipmi-lan-server-'));
const store = await FileBmcStore.open({
  path: join(dir, 'state.json'),
  seed: {
    adminUser: 'admin',
    adminPassword: 'password',
    address: '127.0.0.1',
    macAddress: '52:54:00:12:34:56',
    powerRestorePolicy: 'always-off',
  },
});
const lan = await startIpmiLan({
  config: {
    port: Number(process.env['PORT'] ?? 623),
    host: '127.0.0.1',
    cipherSuites: [3, 17],
    allowV15: false,
    maxSessions: 4,
    sessionTimeoutSec: 60,
  },
  log: silentLogger(),
  registry: new Registry(),
  machine: inertMachine(),
  store,
});
process.stdout.write(`ready ${lan.address.port}\n`);
const stop = async (): Promise<void> => {
  await lan.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
