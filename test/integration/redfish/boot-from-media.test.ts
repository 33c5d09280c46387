// Virtual media the VM really boots from: a CD and a removable disk served over HTTP, each holding code that
// makes QEMU exit with its own status, so the exit status (in the agent's log) says which device booted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type TestAgent } from './agent.ts';
import { bootableDisk, bootableIso, DEBUG_EXIT_ARGS, exitStatusFor } from './boot-images.ts';
import { type ImageServer, runCurl, startImageServer, waitFor } from './tools.ts';

const CD_VALUE = 0x31;
const USB_VALUE = 0x32;

describe('booting from Redfish virtual media on real QEMU', () => {
  let agent: TestAgent;
  let images: ImageServer;
  beforeAll(async () => {
    images = await startImageServer({ 'cd.iso': bootableIso(CD_VALUE), 'usb.img': bootableDisk(USB_VALUE) });
    // No kernel, no disk: only the virtual media can boot.
    agent = await startAgent('', { QEMU_EXTRA_ARGS: DEBUG_EXIT_ARGS });
  });
  afterAll(async () => {
    await agent?.stop();
    await images?.close();
  });

  const redfish = (method: string, path: string, body?: unknown) =>
    runCurl(
      `curl -k -u admin:password -X ${method} -H 'Content-Type: application/json' ${body ? `-d '${JSON.stringify(body)}'` : ''} https://$BMC${path}`,
      { BMC: agent.hostPort },
    );
  /** Exit statuses of the VM's QEMU processes so far, from the agent's log. */
  const exits = () =>
    agent
      .logs()
      .split('\n')
      .filter((l) => l.includes('QEMU exited unexpectedly'))
      .map((l) => (JSON.parse(l) as { code: number }).code);
  const bootOnce = async (target: string | null) => {
    if (target) {
      const patch = await redfish('PATCH', '/redfish/v1/Systems/1', {
        Boot: { BootSourceOverrideTarget: target, BootSourceOverrideEnabled: 'Once' },
      });
      expect(patch.codes).toEqual([200]);
    }
    const before = exits().length;
    const on = await redfish('POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', { ResetType: 'On' });
    expect(on.codes, on.stdout).toEqual([204]);
    await waitFor('the VM to run its boot code and exit', async () => exits().length > before, 240);
    const power = JSON.parse((await redfish('GET', '/redfish/v1/Systems/1')).stdout).PowerState;
    expect(power).toBe('Off');
    return exits().at(-1);
  };

  it('inserts both media; with no override the default order (disk, CD, network, USB) boots the CD', async () => {
    const cd = await redfish('POST', '/redfish/v1/Managers/1/VirtualMedia/CD1/Actions/VirtualMedia.InsertMedia', {
      Image: images.url('cd.iso'),
    });
    expect(cd.codes, cd.stdout).toEqual([204]);
    const usb = await redfish('POST', '/redfish/v1/Systems/1/VirtualMedia/USB1/Actions/VirtualMedia.InsertMedia', {
      Image: images.url('usb.img'),
    });
    expect(usb.codes, usb.stdout).toEqual([204]);
    expect(await bootOnce(null)).toBe(exitStatusFor(CD_VALUE));
  });

  it('boots the USB disk once by a Usb override, then the CD again', async () => {
    expect(await bootOnce('Usb')).toBe(exitStatusFor(USB_VALUE));
    expect(JSON.parse((await redfish('GET', '/redfish/v1/Systems/1')).stdout).Boot.BootSourceOverrideEnabled).toBe(
      'Disabled',
    );
    expect(await bootOnce(null)).toBe(exitStatusFor(CD_VALUE));
  });

  it('boots the CD by a one-time Cd override', async () => {
    expect(await bootOnce('Cd')).toBe(exitStatusFor(CD_VALUE));
  });
});
