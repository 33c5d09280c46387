// scratch: not committed
import pino from 'pino';
import { Registry } from 'prom-client';
import { startIpmiLan } from '../../../../bmc-agent/src/ipmi/lan.ts';
import { bench } from './support.ts';

const b = await bench();
b.machine.setPower('On');
const lan = await startIpmiLan({
  config: {
    port: 16623,
    host: '127.0.0.1',
    cipherSuites: [3, 17],
    allowV15: false,
    maxSessions: 8,
    sessionTimeoutSec: 60,
  },
  log: pino({ level: 'warn' }),
  registry: new Registry(),
  machine: b.machine,
  store: b.store,
  dispatcher: b.dispatcher,
});
console.log(
  'listening',
  lan.address,
  b.store.state().users.map((u) => u.name),
);
setInterval(
  () => console.log('machine', b.machine.state, JSON.stringify(b.machine.override), b.machine.resets.join(',')),
  5000,
).unref();
process.on('SIGTERM', async () => {
  await lan.close();
  await b.cleanup();
  process.exit(0);
});
