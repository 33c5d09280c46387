// The DMTF Redfish Service Validator, offline with the shared DSP8010 schemas, against an agent on real QEMU.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requirePythonPeers } from '../../support/python.ts';
import { requireFile } from '../../support/require.ts';
import { startAgent, type TestAgent } from './agent.ts';
import { runCurl, waitFor } from './tools.ts';

const SCHEMAS = join(import.meta.dirname, '../../../../shared/redfish/DSP8010-2025.4/csdl');

describe('DMTF Redfish Service Validator', () => {
  let agent: TestAgent;
  const logDir = mkdtempSync(join(tmpdir(), 'rf-validator-'));
  beforeAll(async () => {
    // The Protocol Validator subscribes https://192.168.1.50/…: push events may only go to loopback.
    agent = await startAgent('while true; do sleep 60; done', { REDFISH_EVENT_DESTINATIONS: '127.0.0.0/8,::1' });
  });
  afterAll(async () => {
    await agent?.stop();
    rmSync(logDir, { recursive: true, force: true });
  });

  it('reports zero failures, with the VM off and on', async () => {
    const validator = requirePythonPeers().bin('rf_service_validator');
    const schemas = requireFile(join(SCHEMAS, 'ServiceRoot_v1.xml'), 'the DMTF bundle in ../shared/redfish') && SCHEMAS;
    const validate = () =>
      new Promise<string>((resolve, reject) => {
        execFile(
          validator,
          [
            '-u',
            'admin',
            '-p',
            'password',
            '-r',
            agent.url,
            '--authtype',
            'Session',
            '--logdir',
            logDir,
            '--schema_directory',
            schemas,
            '--skipschema',
          ],
          { timeout: 300_000, maxBuffer: 32 * 1024 * 1024 },
          (err, stdout, stderr) => {
            if (err?.killed) return reject(new Error('validator timed out'));
            resolve(stdout + stderr);
          },
        );
      });
    for (const state of ['Off', 'On']) {
      if (state === 'On') await agent.machine.reset('On');
      const output = await validate();
      const summary =
        /\|\s*PASS\s*\|\s*WARN\s*\|\s*FAIL\s*\|\s*NOT TESTED\s*\|[\s\S]*?\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|/.exec(
          output,
        );
      const failures = output
        .split('\n')
        .filter((l) => /FAIL|ERROR/.test(l) && !/Fail: 0/.test(l) && !/\|\s*FAIL\s*\|/.test(l));
      console.log(
        `Redfish Service Validator (VM ${state}): ${summary ? `PASS ${summary[1]}, WARN ${summary[2]}, FAIL ${summary[3]}, NOT TESTED ${summary[4]}` : 'no summary'}`,
      );
      expect(summary, output.slice(-3000)).not.toBeNull();
      expect(Number(summary?.[1])).toBeGreaterThan(300);
      expect(Number(summary?.[3]), failures.join('\n')).toBe(0);
    }
    await agent.machine.reset('ForceOff');
  });

  it('DMTF Redfish Protocol Validator reports zero failures', async () => {
    const validator = requirePythonPeers().bin('rf_protocol_validator');
    // The agent's own self-signed certificate as the CA: the validator checks TLS, and some of its requests
    // ignore --ca-bundle, so REQUESTS_CA_BUNDLE says the same. It subscribes to events at a made-up address
    // (which must succeed: 201); REDFISH_EVENT_DESTINATIONS keeps any delivery from leaving loopback.
    const ca = join(agent.stateDir, 'redfish-tls.crt');
    const reports = join(logDir, 'protocol');
    const output = await new Promise<string>((resolve, reject) => {
      execFile(
        validator,
        [
          '-u',
          'admin',
          '-p',
          'password',
          '-r',
          agent.url,
          '--ca-bundle',
          ca,
          '--avoid-http-redirect',
          '--report-dir',
          reports,
          '--report-type',
          'tsv',
        ],
        { timeout: 300_000, maxBuffer: 32 * 1024 * 1024, env: { ...process.env, REQUESTS_CA_BUNDLE: ca } },
        (err, stdout, stderr) => {
          if (err?.killed) return reject(new Error('protocol validator timed out'));
          resolve(stdout + stderr);
        },
      );
    });
    const summary = /Summary - PASS: (\d+), WARN: (\d+), FAIL: (\d+), NOT_TESTED: (\d+)/.exec(output);
    console.log(`Redfish Protocol Validator: ${summary?.[0] ?? 'no summary'}`);
    expect(summary, output.slice(-3000)).not.toBeNull();
    expect(Number(summary?.[1])).toBeGreaterThan(300);
    expect(Number(summary?.[3]), output.slice(-5000)).toBe(0);
    expect(agent.machine.powerState()).toBe('Off');
  });

  it("REDFISH_EVENT_DESTINATIONS: a subscription to the validator's address is accepted, its events are refused", async () => {
    const env = { BMC: agent.hostPort };
    const metrics = async () => (await runCurl('curl -k -u admin:password https://$BMC/metrics', env)).stdout;
    const refused = async () =>
      Number(/^redfish_event_deliveries_total\{result="refused-by-policy"\} (\d+)$/m.exec(await metrics())?.[1] ?? 0);
    const before = await refused();
    const created = await runCurl(
      `curl -k -u admin:password -H 'Content-Type: application/json' \
        -d '{"Destination":"https://192.168.1.50/Destination1","Protocol":"Redfish"}' \
        -D - https://$BMC/redfish/v1/EventService/Subscriptions`,
      env,
    );
    expect(created.codes).toEqual([201]);
    const location = /^location: (\S+)/im.exec(created.stdout)?.[1];
    expect(location).toMatch(/^\/redfish\/v1\/EventService\/Subscriptions\//);
    await agent.machine.reset('On');
    await agent.machine.reset('ForceOff');
    await waitFor(
      'the power events to be refused by the destination policy',
      async () => (await refused()) >= before + 2,
      60,
      500,
    );
    const text = await metrics();
    expect(text).not.toMatch(/^redfish_event_deliveries_total\{result="(delivered|failed)"\} [1-9]/m);
    expect(agent.logs()).toContain('event delivery refused by REDFISH_EVENT_DESTINATIONS');
    const deleted = await runCurl(`curl -k -u admin:password -X DELETE https://$BMC${location}`, env);
    expect(deleted.codes).toEqual([204]);
  });
});
