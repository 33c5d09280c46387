// The seed README's Redfish curl examples, run as written against an agent driving real QEMU (TCG).
// Only the address changes (https://localhost → the test agent) and the example image URL points at a
// loopback server, since nothing here can reach example.com.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type TestAgent } from './agent.ts';
import { type ImageServer, openEventStream, runCurl, startImageServer, waitFor } from './tools.ts';

const SEED_EXAMPLES: Array<[string, string, number]> = [
  ['Service root', 'curl -k -u admin:password https://localhost/redfish/v1/', 200],
  ['Check power state', 'curl -k -u admin:password https://localhost/redfish/v1/Systems/1', 200],
  [
    'Power on',
    `curl -k -u admin:password -X POST \\
  -H 'Content-Type: application/json' \\
  -d '{"ResetType": "On"}' \\
  https://localhost/redfish/v1/Systems/1/Actions/ComputerSystem.Reset`,
    204,
  ],
  [
    'Force power off',
    `curl -k -u admin:password -X POST \\
  -H 'Content-Type: application/json' \\
  -d '{"ResetType": "ForceOff"}' \\
  https://localhost/redfish/v1/Systems/1/Actions/ComputerSystem.Reset`,
    204,
  ],
  [
    'Set PXE boot',
    `curl -k -u admin:password -X PATCH \\
  -H 'Content-Type: application/json' \\
  -d '{"Boot": {"BootSourceOverrideEnabled": "Once", "BootSourceOverrideTarget": "Pxe"}}' \\
  https://localhost/redfish/v1/Systems/1`,
    200,
  ],
  [
    'Mount VirtualMedia',
    `curl -k -u admin:password -X POST \\
  -H 'Content-Type: application/json' \\
  -d '{"Image": "http://example.com/boot.iso", "Inserted": true}' \\
  https://localhost/redfish/v1/Managers/1/VirtualMedia/CD1/Actions/VirtualMedia.InsertMedia`,
    204,
  ],
  [
    'Unmount VirtualMedia',
    `curl -k -u admin:password -X POST \\
  https://localhost/redfish/v1/Managers/1/VirtualMedia/CD1/Actions/VirtualMedia.EjectMedia`,
    204,
  ],
];

describe('seed README curl examples against real QEMU', () => {
  let agent: TestAgent;
  let images: ImageServer;
  beforeAll(async () => {
    images = await startImageServer();
    agent = await startAgent('while true; do sleep 60; done');
  });
  afterAll(async () => {
    await agent?.stop();
    await images?.close();
  });

  const get = async (path: string) => {
    const r = await runCurl(`curl -k -u admin:password https://$BMC${path}`, { BMC: agent.hostPort });
    return JSON.parse(r.stdout) as Record<string, unknown>;
  };

  it.each(SEED_EXAMPLES)('%s', async (_name, command, status) => {
    const snippet = command
      .replaceAll('https://localhost', `https://${agent.hostPort}`)
      .replaceAll('http://example.com/boot.iso', images.url('boot.iso'));
    const run = await runCurl(snippet, {});
    expect(run.codes, `${run.stdout}\n${run.stderr}`).toEqual([status]);
    if (_name === 'Power on') {
      await waitFor('PowerState On', async () => (await get('/redfish/v1/Systems/1')).PowerState === 'On');
      expect('pid' in agent.machine && agent.machine.pid).toBeGreaterThan(0);
    }
    if (_name === 'Force power off') {
      expect((await get('/redfish/v1/Systems/1')).PowerState).toBe('Off');
      expect('pid' in agent.machine && agent.machine.pid).toBeNull();
    }
    if (_name === 'Set PXE boot') {
      const boot = (await get('/redfish/v1/Systems/1')).Boot as Record<string, string>;
      expect(boot.BootSourceOverrideTarget).toBe('Pxe');
      expect(boot.BootSourceOverrideEnabled).toBe('Once');
    }
    if (_name === 'Mount VirtualMedia') {
      const cd = await get('/redfish/v1/Managers/1/VirtualMedia/CD1');
      expect(cd.Inserted).toBe(true);
      expect(cd.Image).toBe(images.url('boot.iso'));
    }
    if (_name === 'Unmount VirtualMedia')
      expect((await get('/redfish/v1/Managers/1/VirtualMedia/CD1')).Inserted).toBe(false);
  });
});

describe('PowerState follows what QEMU really does', () => {
  it('shows Off when the guest powers itself off, and pushes the events', async () => {
    const agent = await startAgent('echo guest up; sleep 2');
    const events = await openEventStream(agent.port, 'admin:password');
    try {
      const reset = await runCurl(
        `curl -k -u admin:password -X POST -H 'Content-Type: application/json' -d '{"ResetType": "On"}' https://$BMC/redfish/v1/Systems/1/Actions/ComputerSystem.Reset`,
        { BMC: agent.hostPort },
      );
      expect(reset.codes).toEqual([204]);
      const state = async () =>
        JSON.parse(
          (await runCurl('curl -k -u admin:password https://$BMC/redfish/v1/Systems/1', { BMC: agent.hostPort }))
            .stdout,
        ).PowerState as string;
      expect(await state()).toBe('On');
      // The guest runs its script, then init powers the VM off: QEMU exits and Redfish says so.
      await waitFor('the guest to power itself off', async () => (await state()) === 'Off', 360);
      expect(agent.machine.powerState()).toBe('Off');
      // The event stream saw it too: powered on (after any PoweringOn), then powered off.
      const seen: string[] = [];
      for (let i = 0; i < 6 && !seen.includes('ResourcePoweredOff'); i++) {
        const e = await events.next();
        expect(e.Events[0]?.OriginOfCondition['@odata.id']).toBe('/redfish/v1/Systems/1');
        seen.push((e.Events[0]?.MessageId ?? '').split('.').pop() ?? '');
      }
      expect(seen).toContain('ResourcePoweredOn');
      expect(seen.at(-1)).toBe('ResourcePoweredOff');
    } finally {
      events.close();
      await agent.stop();
    }
  });
});
