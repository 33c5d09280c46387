import { execFileSync } from 'node:child_process';
import { createConnection } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { bootGuest, runInGuest } from '../../support/guest.ts';
import { freePort, freePorts } from '../../support/ports.ts';
import { startQemu, stopAllQemu } from '../../support/qemu.ts';
import { requireCommand } from '../../support/require.ts';

// Proves the integration bed is real: QEMU runs under TCG and answers QMP, the guest fixture boots
// and talks IPMI over KCS to QEMU's built-in BMC, and the IPMI client tools are installed.

const kcsWithSimulatedBmc = ['-device', 'ipmi-bmc-sim,id=bmc0', '-device', 'isa-ipmi-kcs,bmc=bmc0'];

afterAll(stopAllQemu);

describe('QEMU', () => {
  it('answers QMP query-status and runs under TCG', async () => {
    const qemu = await startQemu({ args: ['-S'] });
    const qmp = await qemu.qmp();
    try {
      expect(await qmp.execute('query-status')).toMatchObject({ status: 'prelaunch', running: false });
      await qmp.execute('cont');
      expect(await qmp.execute('query-status')).toMatchObject({ status: 'running', running: true });
      const accelerators = (await qmp.execute('query-kvm')) as { enabled: boolean };
      expect(accelerators.enabled).toBe(false);
    } finally {
      qmp.close();
      await qemu.stop();
    }
  });

  it('rejects a QMP command it does not know, naming it', async () => {
    const qemu = await startQemu({ args: ['-S'] });
    const qmp = await qemu.qmp();
    try {
      await expect(qmp.execute('no-such-command')).rejects.toThrow(/CommandNotFound/);
    } finally {
      qmp.close();
      await qemu.stop();
    }
  });
});

describe('loopback ports', () => {
  it('QEMU serves VNC (RFB) on a free loopback port', async () => {
    const port = await freePort('tcp');
    const qemu = await startQemu({ args: ['-S', '-vnc', `127.0.0.1:${port - 5900}`] });
    try {
      const banner = await new Promise<string>((resolve, reject) => {
        const socket = createConnection({ host: '127.0.0.1', port });
        socket.setEncoding('latin1');
        socket.once('data', (chunk: string) => {
          socket.destroy();
          resolve(chunk);
        });
        socket.once('error', reject);
      });
      expect(banner).toMatch(/^RFB 003\.00\d\n/);
    } finally {
      await qemu.stop();
    }
  });

  it('hands out distinct free UDP ports', async () => {
    const ports = await freePorts(3, 'udp');
    expect(new Set(ports).size).toBe(3);
    for (const port of ports) expect(port).toBeGreaterThan(1023);
  });
});

describe('guest fixture', () => {
  it('boots and prints `ipmitool mc info` over KCS from ipmi-bmc-sim', async () => {
    const result = await runInGuest('ipmitool mc info', { args: kcsWithSimulatedBmc });
    expect(result.exitCode).toBe(0);
    expect(result.output).toMatch(/^Device ID\s+: 32$/m);
    expect(result.output).toMatch(/^IPMI Version\s+: 2\.0$/m);
  });

  it('reports the script exit status, takes a long script through fw_cfg and extra kernel arguments', async () => {
    // Longer than a kernel command line can carry, so it must arrive through fw_cfg.
    const filler = `# ${'x'.repeat(76)}\n`.repeat(40);
    const script = `${filler}echo "kernel $(uname -r)"\ngrep -o 'test_flag=on' /proc/cmdline\nls /dev/ipmi0 || echo no-ipmi-device\nexit 3\n`;
    const result = await runInGuest(script, { kernelArgs: ['test_flag=on'] });
    expect(result.output).toMatch(/^test_flag=on$/m);
    expect(result.exitCode).toBe(3);
    expect(result.output).toMatch(/^kernel \d+\.\d+\./m);
    // No KCS device given, so the IPMI driver finds nothing.
    expect(result.output).toContain('no-ipmi-device');
  });

  it('stays up with a shell on ttyS0 when asked, and powers off through QMP', async () => {
    const guest = await bootGuest({ script: 'echo ready', shell: true });
    try {
      expect(await guest.result(120_000)).toEqual({ output: 'ready\n', exitCode: 0 });
      guest.qemu.writeSerial('echo "sum=$((40 + 2))"\n');
      await guest.qemu.waitForSerial(/^sum=42$/m, 30_000);
      const qmp = await guest.qemu.qmp();
      await qmp.execute('quit');
      qmp.close();
      expect(await guest.qemu.waitForExit(30_000)).toEqual({ code: 0, signal: null });
    } finally {
      await guest.stop();
    }
  });
});

describe('IPMI client tools', () => {
  it.each(['ipmitool', 'ipmi-raw', 'bmc-info', 'ipmi-chassis', 'ipmiconsole', 'ipmi_sim'])(
    '%s is installed',
    (tool) => {
      expect(requireCommand(tool, 'bash test/env/apt.sh')).toMatch(/^\//);
    },
  );

  it('ipmitool and freeipmi run and report their versions', () => {
    expect(execFileSync('ipmitool', ['-V'], { encoding: 'utf8' })).toMatch(/ipmitool version 1\.8\./);
    expect(execFileSync('bmc-info', ['--version'], { encoding: 'utf8' })).toMatch(/bmc-info - \d+\.\d+/);
  });
});
