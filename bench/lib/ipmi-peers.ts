// IPMI peers on loopback UDP: OpenIPMI's ipmi_sim (Debian openipmi) with a minimal lan.conf and emu file, and
// pyghmi's fake BMC (pyghmi.ipmi.bmc.Bmc, the server class VirtualBMC subclasses; vbmc itself needs libvirtd).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../test/support/ports.ts';
import { requirePythonPeers } from '../../test/support/python.ts';
import { IpmiLanClient } from './ipmi-client.ts';
import { type Child, launch, waitFor } from './proc.ts';

export interface RunningIpmiPeer {
  label: string;
  proc: Child;
  port: number;
  user: string;
  password: string;
  stop(): Promise<void>;
}

/** Waits until a session can be opened and one command answered. */
async function waitReady(label: string, proc: Child, port: number, user: string, password: string): Promise<void> {
  await waitFor(
    `${label} answers RMCP+`,
    async () => {
      if (proc.exited()) throw new Error(`${label} exited: ${proc.log().slice(-2000)}`);
      const c = await IpmiLanClient.connect('127.0.0.1', port, 300);
      try {
        await c.open(user, password, 3);
        await c.command(0x06, 0x01);
        await c.closeSession();
        return true;
      } finally {
        c.close();
      }
    },
    60_000,
    200,
  );
}

export async function startIpmiSim(dir: string): Promise<RunningIpmiPeer> {
  const home = join(dir, 'ipmi_sim');
  mkdirSync(join(home, 'state'), { recursive: true });
  const port = await freePort('udp');
  const user = 'admin';
  const password = 'bench-Passw0rd';
  writeFileSync(
    join(home, 'lan.conf'),
    [
      'name "bench"',
      'set_working_mc 0x20',
      '  startlan 1',
      `    addr 127.0.0.1 ${port}`,
      '    priv_limit admin',
      '    allowed_auths_callback none md5 straight',
      '    allowed_auths_user none md5 straight',
      '    allowed_auths_operator none md5 straight',
      '    allowed_auths_admin none md5 straight',
      '    guid a123456789abcdefa123456789abcdef',
      '  endlan',
      `  user 2 true "${user}" "${password}" admin 10 none md5 straight`,
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(home, 'bench.emu'),
    ['mc_setbmc 0x20', 'mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02', 'mc_enable 0x20', ''].join('\n'),
  );
  const proc = launch(
    'ipmi_sim',
    ['-c', join(home, 'lan.conf'), '-f', join(home, 'bench.emu'), '-s', join(home, 'state'), '-n'],
    { logPath: join(dir, 'ipmi_sim.log'), cwd: home },
  );
  try {
    await waitReady('ipmi_sim', proc, port, user, password);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { label: 'ipmi_sim', proc, port, user, password, stop: proc.stop };
}

export async function startPyghmiBmc(dir: string): Promise<RunningIpmiPeer> {
  const peers = requirePythonPeers();
  const port = await freePort('udp');
  const proc = launch(peers.bin('fakebmc'), ['--port', String(port)], {
    logPath: join(dir, 'pyghmi-fakebmc.log'),
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  try {
    await waitReady('pyghmi fakebmc', proc, port, 'admin', 'password');
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { label: 'pyghmi Bmc (VirtualBMC core)', proc, port, user: 'admin', password: 'password', stop: proc.stop };
}
