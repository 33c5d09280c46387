// Real Redfish clients against an agent driving real QEMU: sushy (Ironic's library), gofish (Go tooling) and
// bmclib (Tinkerbell Rufio).
// Each powers the system on and off, sets a one-time PXE override, inserts and ejects virtual media.
import { execFile } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { requirePythonPeers } from '../../support/python.ts';
import { requireFile } from '../../support/require.ts';
import { startAgent, type TestAgent } from './agent.ts';
import { type ImageServer, startImageServer, waitFor } from './tools.ts';

function run(file: string, args: string[]): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${file} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
      const last = stdout.trim().split('\n').pop() ?? '';
      resolve(JSON.parse(last) as Record<string, unknown>);
    });
  });
}

describe('Redfish clients against real QEMU', () => {
  let agent: TestAgent;
  let images: ImageServer;
  const power = () => agent.machine.powerState();
  beforeAll(async () => {
    images = await startImageServer();
  });
  afterAll(() => images?.close());
  // A fresh agent per client: each sequence starts from a VM that is off with no override.
  beforeEach(async () => {
    agent = await startAgent('while true; do sleep 60; done');
  });
  afterEach(() => agent?.stop());

  it.each(['session', 'basic'])('sushy (%s auth): power, one-time PXE, virtual media', async (auth) => {
    const peers = requirePythonPeers();
    const sushy = (...cmd: string[]) =>
      run(peers.python, [join(import.meta.dirname, 'sushy_driver.py'), agent.url, 'admin', 'password', auth, ...cmd]);
    expect((await sushy('state')).uuid).toBe(agent.machine.info.uuid);
    await sushy('on');
    await waitFor('On', async () => power() === 'On');
    expect((await sushy('state')).power).toBe('On');
    const boot = await sushy('bootonce-pxe');
    expect([boot.bootTarget, boot.bootEnabled]).toEqual(['Pxe', 'Once']);
    expect(agent.machine.bootOverride()).toMatchObject({ target: 'Pxe', enabled: 'Once' });
    const ins = await sushy('insert', images.url('boot.iso'));
    expect([ins.cdImage, ins.cdInserted]).toEqual([images.url('boot.iso'), true]);
    expect(agent.machine.media().find((m) => m.id === 'CD1')?.inserted).toBe(true);
    const ej = await sushy('eject');
    expect(ej.cdInserted).toBe(false);
    await sushy('off');
    expect(power()).toBe('Off');
    expect((await sushy('state')).power).toBe('Off');
  });

  it.each(['session', 'basic'])('gofish (%s auth): power, one-time PXE, virtual media', async (auth) => {
    const cache = process.env.QEMU_BMC_CACHE ?? join(homedir(), '.cache', 'qemu-bmc');
    const driver = requireFile(join(cache, 'go-peers', 'bin', 'gofish-driver'), 'npm run bed -- go-peers');
    const gofish = (...cmd: string[]) =>
      run(driver, ['-url', agent.url, '-user', 'admin', '-password', 'password', '-insecure', '-auth', auth, ...cmd]);
    await gofish('power', 'on');
    await waitFor('On', async () => power() === 'On');
    expect((await gofish('state')).powerState).toBe('On');
    expect(await gofish('bootonce', 'pxe')).toMatchObject({ ok: true, target: 'Pxe', enabled: 'Once' });
    expect(agent.machine.bootOverride()).toMatchObject({ target: 'Pxe', enabled: 'Once' });
    expect(await gofish('insertmedia', images.url('boot.iso'))).toMatchObject({ ok: true });
    expect(agent.machine.media().find((m) => m.id === 'CD1')).toMatchObject({
      inserted: true,
      image: images.url('boot.iso'),
    });
    expect(await gofish('ejectmedia')).toMatchObject({ ok: true });
    expect(agent.machine.media().find((m) => m.id === 'CD1')?.inserted).toBe(false);
    await gofish('power', 'off');
    expect(power()).toBe('Off');
    expect((await gofish('state')).powerState).toBe('Off');
  });

  it('bmclib with the gofish provider (as Tinkerbell Rufio): power on/off and one-time PXE', async () => {
    const cache = process.env.QEMU_BMC_CACHE ?? join(homedir(), '.cache', 'qemu-bmc');
    const driver = requireFile(join(cache, 'go-peers', 'bin', 'bmclib-driver'), 'npm run bed -- go-peers');
    const bmclib = (...cmd: string[]) =>
      run(driver, [
        '-host',
        '127.0.0.1',
        '-redfish-port',
        String(agent.port),
        '-user',
        'admin',
        '-password',
        'password',
        '-provider',
        'gofish',
        ...cmd,
      ]);
    expect(await bmclib('state')).toMatchObject({ ok: true, powerState: 'Off' });
    await bmclib('power', 'on');
    await waitFor('On', async () => power() === 'On');
    expect(await bmclib('state')).toMatchObject({ powerState: 'On' });
    expect(await bmclib('bootdevice', 'pxe')).toMatchObject({ ok: true, bootDevice: 'pxe', persistent: false });
    expect(agent.machine.bootOverride()).toMatchObject({ target: 'Pxe', enabled: 'Once' });
    await bmclib('power', 'off');
    expect(power()).toBe('Off');
  });
});
