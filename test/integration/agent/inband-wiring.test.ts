// The whole agent in one process, wired by wiring.ts: the guest fixture's ipmitool talks to the BMC over the
// KCS device QEMU connects to VM_IPMI_ADDR (ipmi-bmc-extern). The agent holds the first serial port (SERIAL_ADDR, for
// SOL), so the script reports on a second one (ttyS1) that QEMU writes to a file.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
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

/** Reads a file until `pattern` shows up in it (bounded). */
async function fileUntil(path: string, pattern: RegExp, timeoutMs: number): Promise<string> {
  let text = '';
  for (let waited = 0; waited < timeoutMs; waited += 250) {
    text = existsSync(path) ? (await readFile(path, 'utf8')).replace(/\r/g, '') : '';
    if (pattern.test(text)) return text;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${path} never matched ${pattern}:\n${text.slice(-2000)}`);
}

describe('agent wiring with in-band IPMI', () => {
  it('a guest ipmitool reaches the BMC through ipmi-bmc-extern + KCS and sees the advertised address', async () => {
    dir = await mkdtemp(join(tmpdir(), 'agent-inband-'));
    const [redfish, vnc, serial, inband] = await freePorts(4);
    const [ipmi] = await freePorts(1, 'udp');
    const fixture = guestFixture();
    const report = join(dir, 'ttyS1.log');
    const script =
      '{ ipmitool mc info | grep "IPMI Version"; ipmitool lan print 1 | grep "IP Address  "; echo REPORT-DONE; } >/dev/ttyS1 2>&1';
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
        QEMU_EXTRA_ARGS: `-kernel ${fixture.kernel} -initrd ${fixture.initrd} -append 'console=ttyS0 quiet panic=-1 qbmc.stay=1 qbmc.cmd=${cmd}' -serial file:${report}`,
      },
      { log: silentLogger() },
    );
    expect(agent.machine.powerState()).toBe('On');
    const out = await fileUntil(report, /REPORT-DONE/, 150_000);
    expect(out).toMatch(/IPMI Version\s*:\s*2\.0/);
    expect(out).toMatch(/IP Address\s*:\s*192\.0\.2\.77/);
  });
});
