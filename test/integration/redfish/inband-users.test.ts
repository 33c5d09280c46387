// The seed's promise: users the guest creates in-band (ipmitool over KCS, as MAAS commissioning does) can log
// in to Redfish at once. Real QEMU with ipmi-bmc-extern, the guest fixture's ipmitool, curl for Redfish.
import { describe, expect, it } from 'vitest';
import { freePort } from '../../support/ports.ts';
import { startAgent } from './agent.ts';
import { runCurl, waitFor } from './tools.ts';

const GUEST_SCRIPT = [
  'ipmitool user set name 3 inband',
  'ipmitool user set password 3 inband-pw',
  'ipmitool channel setaccess 1 3 callin=on ipmi=on link=on privilege=3',
  'ipmitool user enable 3',
  'echo in-band setup done',
].join('\n');

describe('in-band IPMI users are Redfish accounts', () => {
  it('a user the guest creates over KCS logs in to Redfish as an Operator', async () => {
    const agent = await startAgent(GUEST_SCRIPT, { VM_IPMI_ADDR: `127.0.0.1:${await freePort()}` });
    try {
      const redfish = (auth: string, method: string, path: string, body?: unknown) =>
        runCurl(
          `curl -k -u ${auth} -X ${method} -H 'Content-Type: application/json' ${body ? `-d '${JSON.stringify(body)}'` : ''} https://$BMC${path}`,
          { BMC: agent.hostPort },
        );
      expect((await redfish('inband:inband-pw', 'GET', '/redfish/v1/Systems/1')).codes).toEqual([401]);
      const on = await redfish('admin:password', 'POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', {
        ResetType: 'On',
      });
      expect(on.codes).toEqual([204]);
      // The guest runs the script, then powers itself off.
      await waitFor('the guest script to finish and power off', async () => agent.machine.powerState() === 'Off', 360);
      const sys = await redfish('inband:inband-pw', 'GET', '/redfish/v1/Systems/1');
      expect(sys.codes, agent.logs().slice(-3000)).toEqual([200]);
      const account = await redfish('admin:password', 'GET', '/redfish/v1/AccountService/Accounts/3');
      expect(JSON.parse(account.stdout)).toMatchObject({ UserName: 'inband', RoleId: 'Operator', Enabled: true });
      const reset = await redfish('inband:inband-pw', 'POST', '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset', {
        ResetType: 'ForceOff',
      });
      expect(reset.codes).toEqual([204]);
    } finally {
      await agent.stop();
    }
  });
});
