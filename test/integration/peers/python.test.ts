import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../support/ports.ts';
import { type PythonPeers, requirePythonPeers } from '../../support/python.ts';
import { requireCommand } from '../../support/require.ts';

// Proves the Python peers of the bed are real: the libraries import at their pinned versions, the sushy-tools
// emulator serves Redfish on loopback and sushy (Ironic's client) reads it, pyghmi's fake BMC answers ipmitool,
// and the CLI entry points of virtualbmc and the DMTF validators run.

const run = promisify(execFile);
const children: ChildProcess[] = [];
let peers: PythonPeers;

/** Pinned top-level versions, read from the requirements file the venv was built from. */
function pinnedVersions(): Map<string, string> {
  const text = readFileSync(join(import.meta.dirname, '..', '..', 'env', 'requirements-peers.txt'), 'utf8');
  const pins = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^([\w.-]+)==([\w.]+)/.exec(line.trim());
    if (match?.[1] && match[2]) pins.set(match[1], match[2]);
  }
  return pins;
}

function startPeer(command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.resume();
  child.stderr?.resume();
  children.push(child);
  return child;
}

/** GETs a URL until it answers (bounded), returning the parsed JSON body. */
async function getJsonWhenUp(url: string, child: ChildProcess, attempts = 80): Promise<unknown> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (child.exitCode !== null) throw new Error(`${url}: server exited with ${child.exitCode}`);
    try {
      const response = await fetch(url);
      if (response.ok) return await response.json();
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`${url} did not answer after ${attempts} attempts`);
}

beforeAll(() => {
  peers = requirePythonPeers();
});

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
});

describe('Python peers', () => {
  it('imports sushy and pyghmi at their pinned versions', async () => {
    const script = [
      'import json, sushy, pyghmi.ipmi.command',
      'from importlib.metadata import version',
      'print(json.dumps({name: version(name) for name in ("sushy", "pyghmi")}))',
    ].join('\n');
    const { stdout } = await run(peers.python, ['-c', script]);
    const pins = pinnedVersions();
    expect(JSON.parse(stdout)).toEqual({ sushy: pins.get('sushy'), pyghmi: pins.get('pyghmi') });
  });

  it('runs the sushy-tools emulator (fake driver) on loopback, and sushy reads its systems', async () => {
    const port = await freePort();
    const emulator = startPeer(peers.bin('sushy-emulator'), ['--fake', '-i', '127.0.0.1', '-p', String(port)]);
    const root = (await getJsonWhenUp(`http://127.0.0.1:${port}/redfish/v1/`, emulator)) as Record<string, unknown>;
    expect(root).toMatchObject({ Systems: { '@odata.id': '/redfish/v1/Systems' } });
    expect(root.RedfishVersion).toMatch(/^1\.\d+\.\d+$/);

    const script = [
      'import json, sys, sushy',
      'root = sushy.Sushy(sys.argv[1], auth=sushy.auth.BasicAuth("admin", "password"))',
      'systems = root.get_system_collection()',
      'system = systems.get_member(systems.members_identities[0])',
      'print(json.dumps({"members": list(systems.members_identities), "power": system.power_state.value}))',
    ].join('\n');
    const { stdout } = await run(peers.python, ['-c', script, `http://127.0.0.1:${port}/redfish/v1`]);
    const result = JSON.parse(stdout) as { members: string[]; power: string };
    const first = result.members[0];
    expect(first).toMatch(/^\/redfish\/v1\/Systems\/[\w-]+$/);
    // What sushy parsed is what the emulator serves.
    const system = (await (await fetch(`http://127.0.0.1:${port}${first}`)).json()) as { PowerState: string };
    expect(result.power).toBe(system.PowerState);
    expect(['On', 'Off']).toContain(result.power);
    emulator.kill('SIGTERM');
  });

  it("answers ipmitool over RMCP+ from pyghmi's fake BMC on loopback", async () => {
    const ipmitool = requireCommand('ipmitool');
    const port = await freePort('udp');
    const bmc = startPeer(peers.bin('fakebmc'), ['--port', String(port)]);
    const args = ['-I', 'lanplus', '-C', '3', '-H', '127.0.0.1', '-p', String(port), '-U', 'admin', '-P', 'password'];
    let output = '';
    for (let attempt = 0; attempt < 40 && output === ''; attempt++) {
      if (bmc.exitCode !== null) throw new Error(`fakebmc exited with ${bmc.exitCode}`);
      output = await run(ipmitool, [...args, '-R', '1', '-N', '1', 'power', 'status']).then(
        ({ stdout }) => stdout.trim(),
        () => '',
      );
      if (output === '') await sleep(250);
    }
    expect(output).toBe('Chassis Power is off');
    await run(ipmitool, [...args, 'power', 'on']);
    expect((await run(ipmitool, [...args, 'power', 'status'])).stdout.trim()).toBe('Chassis Power is on');
    bmc.kill('SIGTERM');
  });

  it.each([
    ['vbmc', /usage: vbmc/],
    ['rf_service_validator', /usage: rf_service_validator/],
    ['rf_protocol_validator', /usage: rf_protocol_validator/],
    ['sushy-emulator', /usage: sushy-emulator/],
  ])('runs %s --help', async (name, usage) => {
    const { stdout } = await run(peers.bin(name), ['--help']);
    expect(stdout).toMatch(usage);
  });
});
