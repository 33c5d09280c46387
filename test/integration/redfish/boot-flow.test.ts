// The provisioning flow MAAS and Ironic use: set a one-time PXE (or CD) override, then power cycle.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAgent, type TestAgent } from './agent.ts';
import { runCurl, waitFor } from './tools.ts';

describe('one-time boot override followed by a power cycle, over Redfish on real QEMU', () => {
  let agent: TestAgent;
  beforeEach(async () => {
    agent = await startAgent('while true; do sleep 60; done');
  });
  afterEach(() => agent?.stop());

  const redfish = (method: string, path: string, body?: unknown) =>
    runCurl(
      `curl -k -u admin:password -X ${method} -H 'Content-Type: application/json' ${body ? `-d '${JSON.stringify(body)}'` : ''} https://$BMC${path}`,
      { BMC: agent.hostPort },
    );
  const reset = (ResetType: string) =>
    redfish('POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', { ResetType });
  const power = async () => JSON.parse((await redfish('GET', '/redfish/v1/Systems/1')).stdout).PowerState as string;

  it.each([
    ['set while the VM is off', false],
    ['set while the VM runs', true],
  ])('Pxe Once %s, then power on / cycle', async (_name, running) => {
    if (running) {
      expect((await reset('On')).codes).toEqual([204]);
      await waitFor('On', async () => (await power()) === 'On');
    }
    const patch = await redfish('PATCH', '/redfish/v1/Systems/1', {
      Boot: { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once' },
    });
    expect(patch.codes).toEqual([200]);
    if (running) expect((await reset('ForceOff')).codes).toEqual([204]);
    const on = await reset('On');
    expect(on.codes, on.stdout).toEqual([204]);
    await waitFor('On', async () => (await power()) === 'On');
    const cycle = await reset('PowerCycle');
    expect(cycle.codes, cycle.stdout).toEqual([204]);
    await waitFor('On after PowerCycle', async () => (await power()) === 'On');
  });
});
