import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { guestFixture } from '../../support/guest.ts';
import { requireCommand } from '../../support/require.ts';
import { ADMIN_PASSWORD, ADMIN_USER, type ConsoleAgent, startConsoleAgent } from './agent.ts';
import { metric } from './clients.ts';
import { type LossyRelay, startLossyRelay } from './lossy-udp.ts';
import { TmuxTerminal } from './tmux.ts';

// Serial-over-LAN end to end: a real agent (managed mode, TCG) whose VM boots the guest fixture with a shell on
// ttyS0, which QEMU serves as a TCP chardev at SERIAL_ADDR; `ipmitool -I lanplus ... sol activate` runs under tmux,
// we type into it and read its screen.

const execFileAsync = promisify(execFile);

let agent: ConsoleAgent | undefined;
let kernelVersion = '';
const terminals: TmuxTerminal[] = [];
const relays: LossyRelay[] = [];

function running(): ConsoleAgent {
  if (!agent) throw new Error('the agent did not start');
  return agent;
}

function ipmitoolArgs(options: { suite?: number; host?: string } = {}): string[] {
  const { ipmiPort } = running();
  return [
    '-I',
    'lanplus',
    '-H',
    options.host ?? '127.0.0.1',
    '-p',
    String(ipmiPort),
    '-U',
    ADMIN_USER,
    '-P',
    ADMIN_PASSWORD,
    ...(options.suite === undefined ? [] : ['-C', String(options.suite)]),
  ];
}

/** A one-shot ipmitool command (no terminal): exit code and everything it printed. */
async function ipmitool(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await execFileAsync('ipmitool', [...ipmitoolArgs(), ...args], { timeout: 60_000 });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** Get Payload Activation Status for SOL: "<instances> <mask lsb> <mask msb>". */
async function solStatus(): Promise<string> {
  const { code, output } = await ipmitool(['raw', '0x06', '0x4a', '0x01']);
  expect(code, output).toBe(0);
  return output.trim();
}

/** `sol activate` in a terminal; resolves once ipmitool says the session is operational. */
async function activate(options: { suite?: number; host?: string; extra?: string[] } = {}): Promise<TmuxTerminal> {
  const term = await TmuxTerminal.start([
    'ipmitool',
    ...ipmitoolArgs(options),
    'sol',
    'activate',
    ...(options.extra ?? []),
  ]);
  terminals.push(term);
  await term.waitFor(/\[SOL Session operational\. {2}Use ~\? for help\]/, 60_000);
  return term;
}

/** Presses Enter until the guest's shell prompt shows (the guest may still be booting). */
async function prompt(term: TmuxTerminal): Promise<void> {
  await term.waitFor(/^\/ # *$/m, 240_000, { action: () => term.enter(), everyMs: 3_000 });
}

/** Types a command line into the guest's shell and waits for `expected` in the output. */
async function runInGuest(term: TmuxTerminal, command: string, expected: RegExp, timeoutMs = 60_000): Promise<string> {
  await term.type(command);
  await term.enter();
  return term.waitFor(expected, timeoutMs);
}

/** `~.` at the start of a line: ipmitool deactivates SOL, closes its session and exits 0. */
async function quit(term: TmuxTerminal): Promise<void> {
  await term.enterThen('~.');
  const status = await term.waitForExit(30_000);
  expect(status, (await term.output()).slice(-1500)).toBe(0);
  expect(await term.output()).toContain('[terminated ipmitool]');
}

beforeAll(async () => {
  requireCommand('ipmitool', 'bash test/env/apt.sh');
  requireCommand('tmux', 'bash test/env/apt.sh');
  kernelVersion = readFileSync(join(guestFixture().dir, 'kernel.version'), 'utf8').trim();
  agent = await startConsoleAgent({ shell: true });
});

// A test that failed half-way must not leave SOL active for the next one.
afterEach(async () => {
  for (const term of terminals.splice(0)) term.stop();
  if (agent && (await solStatus()) !== '01 00 00') await ipmitool(['sol', 'deactivate']);
});

afterAll(async () => {
  for (const term of terminals) term.stop();
  for (const relay of relays) await relay.close();
  await agent?.stop();
});

describe('Serial-over-LAN with ipmitool', () => {
  for (const suite of [17, 3]) {
    it(`sol activate (cipher suite ${suite}) shows the guest's serial console and runs a typed command; ~. ends it`, async () => {
      const { url } = running();
      const term = await activate({ suite });
      await prompt(term);
      expect(await metric(url, 'qemubmc_sol_active')).toBe(1);
      expect(await solStatus()).toBe('01 01 00');

      // The typed line runs in the guest: only the shell can turn $((1000+suite)) into its value.
      const out = await runInGuest(
        term,
        `echo "sol-$((1000+${suite}))"; uname -r; cat /proc/cmdline`,
        new RegExp(`^sol-${1000 + suite}\\n${kernelVersion.replace(/\./g, '\\.')}\\n.*qbmc\\.shell=1`, 'm'),
      );
      expect(out).toContain(`echo "sol-$((1000+${suite}))"`);

      await quit(term);
      expect(await solStatus()).toBe('01 00 00');
      expect(await metric(url, 'qemubmc_sol_active')).toBe(0);
    });
  }

  it('a second sol activate gets "already active"; sol deactivate from another session ends the first', async () => {
    const { url } = running();
    const first = await activate({ suite: 3 });
    await prompt(first);

    const second = await ipmitool(['sol', 'activate']);
    expect(second.code).toBe(1);
    expect(second.output).toContain('SOL payload already active on another session');
    const alreadyBefore = (await metric(url, 'qemubmc_sol_activations_total{result="already-active"}')) ?? 0;
    expect(alreadyBefore).toBeGreaterThanOrEqual(1);

    const deactivate = await ipmitool(['sol', 'deactivate']);
    expect(deactivate.code, deactivate.output).toBe(0);
    expect(await solStatus()).toBe('01 00 00');
    expect(await metric(url, 'qemubmc_sol_active')).toBe(0);
    // Deactivating again: the spec's "already deactivated" (80h), which ipmitool reports.
    const again = await ipmitool(['sol', 'deactivate']);
    expect(again.code).toBe(1);
    expect(again.output).toContain('SOL payload already de-activated');

    // The first console is cut off: what it types never reaches the guest, and ipmitool gives up.
    await first.type('echo "gone-$((2000+1))"');
    await first.enter();
    expect(await first.waitForExit(120_000)).not.toBe(0);
    const cut = await first.output();
    expect(cut).toContain('SOL session closed by BMC');
    expect(cut).not.toMatch(/^gone-2001$/m);

    // The payload is free again: a new session gets the console, and the guest never ran the cut-off command.
    const next = await activate();
    await prompt(next);
    await runInGuest(next, 'echo "next-$((3000+1))"', /^next-3001$/m);
    expect(await next.output()).not.toMatch(/^gone-2001$/m);
    await quit(next);
  });

  it("survives ipmitool's keepalives while idle (Get Device ID, and SOL keepalives with usesolkeepalive)", async () => {
    const { url } = running();
    for (const extra of [[], ['usesolkeepalive']]) {
      const term = await activate({ extra });
      await prompt(term);
      const packets = (await metric(url, 'ipmi_lan_packets_total')) ?? 0;
      // ipmitool sends its keepalive after 15 s without one (SOL_KEEPALIVE_TIMEOUT).
      await new Promise((r) => setTimeout(r, 20_000));
      expect(await term.exitStatus()).toBeNull();
      expect(await metric(url, 'ipmi_lan_packets_total')).toBeGreaterThan(packets);
      const marker = 4000 + extra.length;
      await runInGuest(term, `echo "idle-$((${marker}))"`, new RegExp(`^idle-${marker}$`, 'm'));
      await quit(term);
    }
  });

  it('stays active across a power cycle: the next boot shows on the same console', async () => {
    const term = await activate();
    await prompt(term);
    // The marker may follow the old prompt on the same line ("/ # QBMC-BEGIN").
    const boots = (text: string) => text.split('\n').filter((l) => l.endsWith('QBMC-BEGIN')).length;
    const before = boots(await term.output());
    const cycle = await ipmitool(['chassis', 'power', 'cycle']);
    expect(cycle.code, cycle.output).toBe(0);
    // QEMU is a new process with a new serial server; the agent reconnects and the guest's init shows up.
    await term.waitFor((text) => boots(text) > before, 240_000);
    await term.waitFor(/QBMC-END rc=0[\s\S]*^\/ # *$/m, 120_000, { action: () => term.enter(), everyMs: 3_000 });
    expect(await term.exitStatus()).toBeNull();
    await runInGuest(term, 'echo "cycled-$((8000+1))"', /^cycled-8001$/m);
    await quit(term);
  }, 420_000);

  it('carries bulk output in order, every line once', async () => {
    const term = await activate();
    await prompt(term);
    const out = await runInGuest(term, 'seq 1 3000; echo "bulk-$((5000+1))"', /^bulk-5001$/m, 120_000);
    const lines = out.split('\n');
    const start = lines.findIndex((l) => l.includes('seq 1 3000;'));
    const end = lines.findIndex((l, i) => i > start && l === 'bulk-5001');
    expect(lines.slice(start + 1, end)).toEqual(Array.from({ length: 3000 }, (_, i) => String(i + 1)));
    await quit(term);
  });

  it('loses no output when SOL packets are dropped both ways: the BMC retransmits, ipmitool shows each line once', async () => {
    const { url, ipmiPort } = running();
    const bmcRetransmits = async () => (await metric(url, 'qemubmc_sol_retransmits_total{by="bmc"}')) ?? 0;
    // ipmitool talks to [::1]:<port>, which relays to the agent; once switched on, it drops every 4th SOL packet
    // towards the agent (ipmitool's acknowledgements) and every 3rd towards ipmitool (our data).
    const relay = await startLossyRelay(ipmiPort, { toAgent: 4, toConsole: 3 });
    relays.push(relay);
    const term = await activate({ host: relay.host });
    await prompt(term);
    const before = await bmcRetransmits();
    // A slow stream, so that the loss is on while it flows. The loss starts once the guest has the command (typed
    // input under loss is up to ipmitool, see docs/console.md) and stops when the stream has ended.
    const command = 'for i in $(seq 1 300); do echo $i; usleep 10000; done; echo "lossy-$((6000+1))"';
    await term.type(command);
    await term.enter();
    await term.waitFor(/^1$/m, 60_000);
    relay.setLoss(true);
    const out = await term.waitFor(/^lossy-6001$/m, 180_000);
    relay.setLoss(false);
    // (The long command line wraps in the terminal; its output starts at the first line that is just "1".)
    const lines = out.split('\n');
    const first = lines.indexOf('1');
    const end = lines.indexOf('lossy-6001');
    expect(lines.slice(first, end)).toEqual(Array.from({ length: 300 }, (_, i) => String(i + 1)));
    expect(relay.dropped.toAgent).toBeGreaterThan(0);
    expect(relay.dropped.toConsole).toBeGreaterThan(0);
    // Every dropped packet was either our data or ipmitool's acknowledgement of it: each made us send again.
    expect((await bmcRetransmits()) - before).toBeGreaterThanOrEqual(relay.dropped.toConsole);

    await runInGuest(term, 'echo "after-$((7000+1))"', /^after-7001$/m);
    await quit(term);
  });
});
