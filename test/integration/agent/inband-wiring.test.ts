// The whole agent in one process, wired by wiring.ts: the guest fixture's ipmitool talks to the BMC over the
// KCS device QEMU connects to VM_IPMI_ADDR (ipmi-bmc-extern), and its output comes back over SERIAL_ADDR.
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../bmc-agent/src/log.ts';
import { type Agent, startAgent } from '../../../bmc-agent/src/wiring.ts';
import { guestFixture } from '../../support/guest.ts';
import { freePorts } from '../../support/ports.ts';

let agent: Agent | null = null;
let dir = '';
afterEach(async () => {
  await agent?.stop();
  agent = null;
  await rm(dir, { recursive: true, force: true });
});

/** Collects the VM's serial output until `pattern` shows up (bounded), reconnecting while QEMU starts listening. */
async function serialUntil(port: number, pattern: RegExp, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < deadline) {
    const done = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      const timer = setTimeout(() => socket.destroy(), Math.max(0, deadline - Date.now()));
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => {
        text += d;
        if (pattern.test(text.replace(/\r/g, ''))) {
          clearTimeout(timer);
          socket.destroy();
          resolve(true);
        }
      });
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(pattern.test(text.replace(/\r/g, '')));
      });
    });
    if (done) return text.replace(/\r/g, '');
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`serial never matched ${pattern}:\n${text.slice(-2000)}`);
}

describe('agent wiring with in-band IPMI', () => {
  it('a guest ipmitool reaches the BMC through ipmi-bmc-extern + KCS and sees the advertised address', async () => {
    dir = await mkdtemp(join(tmpdir(), 'agent-inband-'));
    const [redfish, vnc, serial, inband] = await freePorts(4);
    const [ipmi] = await freePorts(1, 'udp');
    const fixture = guestFixture();
    const script = 'ipmitool mc info | grep "IPMI Version"; ipmitool lan print 1 | grep "IP Address  "';
    const cmd = Buffer.from(script).toString('base64');
    agent = await startAgent(
      {
        STATE_DIR: dir,
        QEMU_MODE: 'managed',
        VM_DISK: '',
        VM_MEMORY: '128',
        VM_CPUS: '1',
        ENABLE_KVM: 'false',
        REDFISH_PORT: String(redfish),
        IPMI_PORT: String(ipmi),
        VNC_PORT: String(vnc),
        SERIAL_ADDR: `127.0.0.1:${serial}`,
        VM_IPMI_ADDR: `127.0.0.1:${inband}`,
        BMC_ADDRESS: '192.0.2.77',
        IPMI_PASS: 'inband-pw',
        POWER_ON_AT_START: 'true',
        GRACEFUL_SHUTDOWN_TIMEOUT: '2',
        QEMU_EXTRA_ARGS: `-kernel ${fixture.kernel} -initrd ${fixture.initrd} -append 'console=ttyS0 quiet panic=-1 qbmc.stay=1 qbmc.cmd=${cmd}'`,
      },
      { log: silentLogger() },
    );
    expect(agent.machine.powerState()).toBe('On');
    const out = await serialUntil(serial!, /QBMC-END rc=\d+/, 150_000);
    expect(out).toMatch(/IPMI Version\s*:\s*2\.0/);
    expect(out).toMatch(/IP Address\s*:\s*192\.0\.2\.77/);
  });
});
