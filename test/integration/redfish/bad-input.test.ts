// Bad input through real curl against an agent on real QEMU: the right status, a Base registry error body,
// nothing changed, and the service still answers afterwards.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATE_FILE_NAME } from '../../../bmc-agent/src/bmc/store.ts';
import { startAgent, type TestAgent } from './agent.ts';
import { runCurl } from './tools.ts';

const RESET = '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset';

describe('bad input over HTTPS with curl (real QEMU behind)', () => {
  let agent: TestAgent;
  const scratch = mkdtempSync(join(tmpdir(), 'redfish-bad-'));
  beforeAll(async () => {
    agent = await startAgent('while true; do sleep 60; done', { REDFISH_SESSION_TIMEOUT: '30' });
    await agent.machine.reset('On');
  });
  afterAll(async () => {
    await agent?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  const state = () =>
    JSON.stringify({
      power: agent.machine.powerState(),
      boot: agent.machine.bootOverride(),
      media: agent.machine.media(),
      users: JSON.parse(readFileSync(join(agent.stateDir, STATE_FILE_NAME), 'utf8')).users,
      pid: 'pid' in agent.machine ? agent.machine.pid : null,
    });
  const curl = (args: string) => runCurl(`curl -k ${args}`, { BMC: agent.hostPort, SCRATCH: scratch });
  const messageId = (stdout: string) => {
    const body = JSON.parse(stdout) as {
      error: { code: string; '@Message.ExtendedInfo': Array<{ MessageId: string }> };
    };
    return body.error['@Message.ExtendedInfo'].map((m) => m.MessageId.replace(/^Base\.\d+\.\d+\.\d+\./, ''));
  };

  it.each([
    [
      'malformed JSON',
      `-u admin:password -X POST -H 'Content-Type: application/json' -d '{"ResetType": ' https://$BMC${RESET}`,
      400,
      'MalformedJSON',
    ],
    [
      'wrong type',
      `-u admin:password -X POST -H 'Content-Type: application/json' -d '{"ResetType": 3}' https://$BMC${RESET}`,
      400,
      'ActionParameterValueTypeError',
    ],
    [
      'wrong property type',
      `-u admin:password -X PATCH -H 'Content-Type: application/json' -d '{"Boot": {"BootSourceOverrideTarget": true}}' https://$BMC/redfish/v1/Systems/1`,
      400,
      'PropertyValueTypeError',
    ],
    [
      'unknown ResetType',
      `-u admin:password -X POST -H 'Content-Type: application/json' -d '{"ResetType": "Explode"}' https://$BMC${RESET}`,
      400,
      'ActionParameterValueNotInList',
    ],
    [
      'unknown property',
      `-u admin:password -X PATCH -H 'Content-Type: application/json' -d '{"Turbo": true}' https://$BMC/redfish/v1/Systems/1`,
      400,
      'PropertyUnknown',
    ],
    [
      'missing ResetType',
      `-u admin:password -X POST -H 'Content-Type: application/json' -d '{}' https://$BMC${RESET}`,
      400,
      'ActionParameterMissing',
    ],
    ['wrong password', `-u admin:wrong https://$BMC/redfish/v1/Systems/1`, 401, 'NoValidSession'],
    ['no credentials', `https://$BMC/redfish/v1/Systems/1`, 401, 'NoValidSession'],
  ])('%s', async (_name, args, status, id) => {
    const before = state();
    const r = await curl(args);
    expect(r.codes).toEqual([status]);
    expect(messageId(r.stdout)).toEqual([id]);
    expect(state()).toBe(before);
  });

  it('a 1 MB body gets 413 PayloadTooLarge', async () => {
    writeFileSync(join(scratch, 'big.json'), JSON.stringify({ ResetType: 'ForceOff', Pad: 'x'.repeat(1024 * 1024) }));
    const before = state();
    const r = await curl(
      `-u admin:password -X POST -H 'Content-Type: application/json' --data-binary @$SCRATCH/big.json https://$BMC${RESET}`,
    );
    expect(r.codes).toEqual([413]);
    expect(messageId(r.stdout)).toEqual(['PayloadTooLarge']);
    expect(state()).toBe(before);
  });

  it('an expired session gets 401 and the service stays up', async () => {
    const login = await curl(
      `-s -o /dev/null -D $SCRATCH/headers -X POST -H 'Content-Type: application/json' -d '{"UserName": "admin", "Password": "password"}' https://$BMC/redfish/v1/SessionService/Sessions`,
    );
    expect(login.codes).toEqual([201]);
    const token = /x-auth-token: (\w+)/i.exec((await runCurl(`cat ${scratch}/headers`, {})).stdout)?.[1];
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect((await curl(`-H 'X-Auth-Token: ${token}' https://$BMC/redfish/v1/Systems/1`)).codes).toEqual([200]);
    // REDFISH_SESSION_TIMEOUT=30: leave the session idle for longer than that, then use it.
    await new Promise((r) => setTimeout(r, 32_000));
    const r = await curl(`-H 'X-Auth-Token: ${token}' https://$BMC/redfish/v1/Systems/1`);
    expect(r.codes).toEqual([401]);
    expect(messageId(r.stdout)).toEqual(['NoValidSession']);
    const alive = await curl(`-u admin:password https://$BMC/redfish/v1/Systems/1`);
    expect(alive.codes).toEqual([200]);
    expect(JSON.parse(alive.stdout).PowerState).toBe('On');
  });
});
