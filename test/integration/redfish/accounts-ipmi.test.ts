// AccountService and IPMI share one user store: an account made over Redfish logs in with ipmitool
// (RMCP+), and a role change or deletion over Redfish is what IPMI sees next.
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireCommand } from '../../support/require.ts';
import { startAgent, type TestAgent } from './agent.ts';
import { runCurl } from './tools.ts';

function ipmitool(
  port: number,
  user: string,
  password: string,
  ...args: string[]
): Promise<{ ok: boolean; out: string }> {
  const bin = requireCommand('ipmitool');
  return new Promise((resolve) => {
    execFile(
      bin,
      [
        '-I',
        'lanplus',
        '-C',
        '17',
        '-H',
        '127.0.0.1',
        '-p',
        String(port),
        '-U',
        user,
        '-P',
        password,
        '-R',
        '1',
        '-N',
        '2',
        '-L',
        'OPERATOR',
        ...args,
      ],
      { timeout: 60_000 },
      (err, stdout, stderr) => resolve({ ok: !err, out: stdout + stderr }),
    );
  });
}

describe('Redfish accounts are IPMI users', () => {
  let agent: TestAgent;
  beforeAll(async () => {
    agent = await startAgent('while true; do sleep 60; done');
  });
  afterAll(() => agent?.stop());
  const redfish = (method: string, path: string, body?: unknown) =>
    runCurl(
      `curl -k -u admin:password -X ${method} -H 'Content-Type: application/json' ${body ? `-d '${JSON.stringify(body)}'` : ''} https://$BMC${path}`,
      { BMC: agent.hostPort },
    );

  it('an Operator made over Redfish controls power over IPMI; ReadOnly cannot; deleted cannot log in', async () => {
    const created = await redfish('POST', '/redfish/v1/AccountService/Accounts', {
      UserName: 'maas',
      Password: 'maas-secret',
      RoleId: 'Operator',
    });
    expect(created.codes, created.stdout).toEqual([201]);
    const id = JSON.parse(created.stdout).Id as string;

    const status = await ipmitool(agent.ipmiPort, 'maas', 'maas-secret', 'chassis', 'power', 'status');
    expect(status.out).toMatch(/Chassis Power is off/);
    const on = await ipmitool(agent.ipmiPort, 'maas', 'maas-secret', 'chassis', 'power', 'on');
    expect(on.ok, on.out).toBe(true);
    expect(agent.machine.powerState()).toMatch(/^(On|PoweringOn)$/);
    expect(JSON.parse((await redfish('GET', '/redfish/v1/Systems/1')).stdout).PowerState).toMatch(/^(On|PoweringOn)$/);

    expect((await redfish('PATCH', `/redfish/v1/AccountService/Accounts/${id}`, { RoleId: 'ReadOnly' })).codes).toEqual(
      [200],
    );
    const off = await ipmitool(agent.ipmiPort, 'maas', 'maas-secret', 'chassis', 'power', 'off');
    expect(off.ok).toBe(false);
    expect(agent.machine.powerState()).toMatch(/^(On|PoweringOn)$/);

    expect((await redfish('DELETE', `/redfish/v1/AccountService/Accounts/${id}`)).codes).toEqual([204]);
    const gone = await ipmitool(agent.ipmiPort, 'maas', 'maas-secret', 'chassis', 'power', 'status');
    expect(gone.ok).toBe(false);
  });
});
