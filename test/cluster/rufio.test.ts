// Tinkerbell Rufio, the real controller built from its Go module, drives a real qemu-bmc agent: the Machine, Secret
// and Job of docs/rufio.md (docs/examples/rufio/*.yaml, host and ports pointed at the agent on loopback) make Rufio
// report the Machine Contactable with its power state, and the Job (power off, one-time PXE, power on) completes
// with the effect visible on the agent: ipmitool and Redfish read power On, and the VM's power-on used the one-time
// Pxe override. Once over Redfish (bmclib's gofish provider), once over IPMI LAN (bmclib's ipmitool provider).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { BootOverride, PowerState } from '../../bmc-agent/src/machine/types.ts';
import { type Agent, startAgent } from '../../bmc-agent/src/wiring.ts';
import { type Cluster, startCluster } from '../support/cluster.ts';
import { freePorts } from '../support/ports.ts';
import { requireCommand } from '../support/require.ts';
import { type Rufio, startRufio } from '../support/rufio.ts';

const execFileAsync = promisify(execFile);
const examples = join(import.meta.dirname, '..', '..', 'docs', 'examples', 'rufio');
const example = (name: string): string => readFileSync(join(examples, name), 'utf8');

// The agent's BMC user is the one in the example Secret, as a VirtualBMC with credentialsSecretRef would have it.
const credentials = parse(example('bmc-credentials.yaml')) as { stringData: { username: string; password: string } };
const { username, password } = credentials.stringData;

interface MachineJson {
  status?: { powerState?: string; conditions?: { type: string; status: string; message?: string }[] };
}
interface JobJson {
  status?: { conditions?: { type: string; status: string; message?: string }[] };
}

/** One observed change on the agent's machine: `power:Off`, `boot:Pxe/Once`, ... */
type Change = string;

let cluster: Cluster;
let rufio: Rufio;
let agent: Agent;
let stateDir: string;
const agentLog: string[] = [];
const changes: Change[] = [];

beforeAll(async () => {
  requireCommand('ipmitool', 'bash test/env/apt.sh');
  requireCommand('curl', 'bash test/env/apt.sh');
  requireCommand('qemu-system-x86_64', 'bash test/env/apt.sh');
  cluster = await startCluster();
  rufio = await startRufio({ kubeconfig: cluster.kubeconfig, kubectl: cluster.kubectl });
  agent = await startBareAgent();
  agent.machine.on('power', (state: PowerState) => changes.push(`power:${state}`));
  agent.machine.on('boot', (boot: BootOverride) => changes.push(`boot:${boot.target}/${boot.enabled}`));
});

afterAll(async () => {
  await agent?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  await rufio?.stop();
  await cluster?.stop();
});

/** The agent without a guest: QEMU under TCG with no disk (the firmware just looks for something to boot). */
async function startBareAgent(): Promise<Agent> {
  stateDir = mkdtempSync(join(tmpdir(), 'rufio-agent-'));
  const [redfishPort, ipmiPort, vncPort, serialPort] = await freePorts(4);
  const log = pino({ level: 'debug' }, { write: (line: string) => void agentLog.push(line) });
  return startAgent(
    {
      QEMU_MODE: 'managed',
      STATE_DIR: stateDir,
      REDFISH_PORT: String(redfishPort),
      IPMI_PORT: String(ipmiPort),
      VNC_PORT: String(vncPort),
      SERIAL_ADDR: `127.0.0.1:${serialPort}`,
      BMC_ADDRESS: '127.0.0.1',
      IPMI_USER: username,
      IPMI_PASS: password,
      ENABLE_KVM: 'false',
      VM_MEMORY: '128',
      VM_CPUS: '1',
      VM_DISK: '',
      GRACEFUL_SHUTDOWN_TIMEOUT: '3',
    },
    { log },
  );
}

/** An example file as the test applies it: the BMC Service's name and ports replaced by the agent's, in `ns`. */
function pointedAtAgent(name: string, ns: string): string {
  return example(name)
    .replaceAll('node1-bmc.default.svc', '127.0.0.1')
    .replaceAll('port: 443', `port: ${agent.redfishPort}`)
    .replaceAll('port: 623', `port: ${agent.ipmiPort}`)
    .replaceAll('namespace: default', `namespace: ${ns}`);
}

async function ipmitool(...args: string[]): Promise<string> {
  const base = ['-I', 'lanplus', '-H', '127.0.0.1', '-p', String(agent.ipmiPort), '-U', username, '-P', password];
  const { stdout } = await execFileAsync('ipmitool', [...base, ...args], { timeout: 30_000 });
  return stdout;
}

async function redfishSystem(): Promise<{ PowerState: string; Boot: Record<string, string> }> {
  const url = `https://127.0.0.1:${agent.redfishPort}/redfish/v1/Systems/1`;
  const { stdout } = await execFileAsync('curl', ['-sfk', '-u', `${username}:${password}`, url], { timeout: 30_000 });
  return JSON.parse(stdout) as { PowerState: string; Boot: Record<string, string> };
}

async function getJson<T>(ns: string, resource: string): Promise<T> {
  return JSON.parse((await cluster.kubectl(['get', '-n', ns, resource, '-o', 'json'])).stdout) as T;
}

/** Polls `read` every second until `done` holds; fails with the last value and Rufio's log tail. */
async function waitFor<T>(
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  seconds = 120,
): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < seconds; i++) {
    last = await read();
    if (done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const tail = rufio.logs().split('\n').slice(-60).join('\n');
  throw new Error(`${what} not reached in ${seconds}s; last: ${JSON.stringify(last)}\nrufio log tail:\n${tail}`);
}

const contactable = (m: MachineJson) => m.status?.conditions?.find((c) => c.type === 'Contactable');
const jobCondition = (j: JobJson, type: string) => j.status?.conditions?.find((c) => c.type === type);

/** Rufio's JSON log lines about objects in `ns` with this message. */
function rufioLog(ns: string, message: string): Record<string, unknown>[] {
  return rufio
    .logs()
    .split('\n')
    .filter((line) => line.includes(`"namespace":"${ns}"`) && line.includes(`"message":"${message}"`))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Whether `wanted` occurs in `seen` in this order (other entries may come between). */
function inOrder(seen: readonly string[], wanted: readonly string[]): boolean {
  let next = 0;
  for (const entry of seen) if (entry === wanted[next]) next++;
  return next === wanted.length;
}

describe.each([
  { path: 'Redfish', machineFile: 'machine-redfish.yaml', provider: 'gofish' },
  { path: 'IPMI', machineFile: 'machine-ipmi.yaml', provider: 'ipmitool' },
])('Rufio drives the agent over $path', ({ path, machineFile, provider }) => {
  const ns = `rufio-${path.toLowerCase()}`;

  it('reports the Machine Contactable with its power state', async () => {
    // Start from On, so the Job's power off has something to do.
    if (!/Chassis Power is on/.test(await ipmitool('chassis', 'power', 'status')))
      await ipmitool('chassis', 'power', 'on');
    await waitFor('power On', redfishSystem, (s) => s.PowerState === 'On', 60);

    await cluster.kubectl(['create', 'namespace', ns]);
    await cluster.kubectl(['apply', '-f', '-'], pointedAtAgent('bmc-credentials.yaml', ns));
    await cluster.kubectl(['apply', '-f', '-'], pointedAtAgent(machineFile, ns));
    const machine = await waitFor(
      'Machine Contactable',
      () => getJson<MachineJson>(ns, 'machines.bmc.tinkerbell.org/node1'),
      (m) => contactable(m)?.status === 'True' && m.status?.powerState !== undefined,
    );
    expect(machine.status?.powerState).toBe('on');
    // Rufio's bmclib connected through the provider the Machine prefers, and through no other.
    const connected = rufioLog(ns, 'Connected to BMC');
    expect(connected.length).toBeGreaterThan(0);
    for (const line of connected) expect(line['successfulProvider']).toEqual([provider]);

    // Rufio v0.6.5's CRDs define no printer columns: the plain listing shows NAME and AGE only.
    const plain = await cluster.kubectl(['get', '-n', ns, 'machines.bmc.tinkerbell.org']);
    expect(plain.stdout.split('\n')[0]).toMatch(/^NAME\s+AGE$/);

    // The command docs/rufio.md shows for a one-line view.
    const { stdout } = await cluster.kubectl([
      'get',
      '-n',
      ns,
      'machines.bmc.tinkerbell.org',
      '-o',
      'custom-columns=NAME:.metadata.name,POWER:.status.powerState,CONTACTABLE:.status.conditions[?(@.type=="Contactable")].status',
    ]);
    expect(stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^NAME\s+POWER\s+CONTACTABLE$/),
      expect.stringMatching(/^node1\s+on\s+True$/),
    ]);
  });

  it('runs the PXE boot Job: power off, one-time PXE, power on', async () => {
    changes.length = 0;
    await cluster.kubectl(['apply', '-f', '-'], pointedAtAgent('job-pxe-boot.yaml', ns));
    const job = await waitFor(
      'Job finished',
      () => getJson<JobJson>(ns, 'jobs.bmc.tinkerbell.org/node1-pxe-boot'),
      (j) => jobCondition(j, 'Completed')?.status === 'True' || jobCondition(j, 'Failed')?.status === 'True',
      180,
    );
    expect(jobCondition(job, 'Failed')?.status, JSON.stringify(job.status)).not.toBe('True');
    expect(jobCondition(job, 'Completed')?.status).toBe('True');

    const view = await cluster.kubectl([
      'get',
      '-n',
      ns,
      'jobs.bmc.tinkerbell.org',
      '-o',
      'custom-columns=NAME:.metadata.name,COMPLETED:.status.conditions[?(@.type=="Completed")].status',
    ]);
    expect(view.stdout.trim().split('\n')[1]).toMatch(/^node1-pxe-boot\s+True$/);

    // One Task per step, each Completed.
    const tasks = await getJson<{ items: { metadata: { name: string }; status?: JobJson['status'] }[] }>(
      ns,
      'tasks.bmc.tinkerbell.org',
    );
    expect(tasks.items.map((t) => t.metadata.name).sort()).toEqual([
      'node1-pxe-boot-task-0',
      'node1-pxe-boot-task-1',
      'node1-pxe-boot-task-2',
    ]);
    for (const task of tasks.items) expect(jobCondition(task, 'Completed')?.status).toBe('True');

    // The agent saw the power off, the one-time Pxe override, then a power on that used (and so cleared) it.
    expect(inOrder(changes, ['power:Off', 'boot:Pxe/Once', 'power:On']), changes.join(' ')).toBe(true);
    expect(inOrder(changes, ['boot:Pxe/Once', 'boot:None/Disabled']), changes.join(' ')).toBe(true);
    const poweredOn = agentLog.filter((line) => line.includes('"VM powered on"')).at(-1) ?? '';
    expect(JSON.parse(poweredOn || '{}')).toMatchObject({ boot: { target: 'Pxe', enabled: 'Once' } });

    // Each action went through the Machine's provider.
    const actions = [
      ...rufioLog(ns, 'power state set successfully'),
      ...rufioLog(ns, 'one time boot device set successfully'),
    ];
    expect(actions.map((line) => line['successfulProvider'])).toEqual([provider, provider, provider]);

    // Read back through both of the BMC's interfaces.
    expect(await ipmitool('chassis', 'power', 'status')).toMatch(/Chassis Power is on/);
    const system = await redfishSystem();
    expect(system.PowerState).toBe('On');
    expect(system.Boot).toMatchObject({ BootSourceOverrideEnabled: 'Disabled' });
  });

  it('reports a power change made elsewhere once the Machine is reconciled again', async () => {
    await ipmitool('chassis', 'power', 'off');
    await waitFor('power Off', redfishSystem, (s) => s.PowerState === 'Off', 60);
    // Rufio re-reads a Machine every 3 minutes, or at once when the object changes (docs/rufio.md).
    await cluster.kubectl([
      'annotate',
      '-n',
      ns,
      'machines.bmc.tinkerbell.org/node1',
      `refresh=${Date.now()}`,
      '--overwrite',
    ]);
    const machine = await waitFor(
      'Machine powerState off',
      () => getJson<MachineJson>(ns, 'machines.bmc.tinkerbell.org/node1'),
      (m) => m.status?.powerState === 'off',
    );
    expect(contactable(machine)?.status).toBe('True');
  });
});

describe('Rufio with a wrong password', () => {
  it('reports the Machine not Contactable, with the reason, until the Secret is fixed', async () => {
    const ns = 'rufio-wrong-password';
    await cluster.kubectl(['create', 'namespace', ns]);
    await cluster.kubectl(
      ['apply', '-f', '-'],
      pointedAtAgent('bmc-credentials.yaml', ns).replace(`password: ${password}`, 'password: not-the-password'),
    );
    await cluster.kubectl(['apply', '-f', '-'], pointedAtAgent('machine-redfish.yaml', ns));
    const machine = await waitFor(
      'Machine Contactable False',
      () => getJson<MachineJson>(ns, 'machines.bmc.tinkerbell.org/node1'),
      (m) => contactable(m)?.status === 'False',
    );
    expect(contactable(machine)?.message).toMatch(/failed to open connection to BMC/);
    expect(machine.status?.powerState).toBe('unknown');

    // Fixed Secret, then the annotation docs/rufio.md shows to re-read the Machine at once.
    await cluster.kubectl(['apply', '-f', '-'], pointedAtAgent('bmc-credentials.yaml', ns));
    await cluster.kubectl(['annotate', '-n', ns, 'machines.bmc.tinkerbell.org/node1', 'refresh=1', '--overwrite']);
    await waitFor(
      'Machine Contactable after the fix',
      () => getJson<MachineJson>(ns, 'machines.bmc.tinkerbell.org/node1'),
      (m) => contactable(m)?.status === 'True' && m.status?.powerState !== 'unknown',
    );
  });
});

describe('the rest of docs/examples/rufio', () => {
  it('the VirtualBMC that shares the credentials Secret is valid against the qemu-bmc CRD', async () => {
    await cluster.kubectl(['apply', '-f', join(import.meta.dirname, '..', '..', 'crds', 'virtualbmc.yaml')]);
    await cluster.kubectl(['wait', '--for=condition=Established', 'crd/virtualbmcs.qemu-bmc.dev', '--timeout=60s']);
    const { stdout } = await cluster.kubectl(['apply', '--dry-run=server', '-f', join(examples, 'virtualbmc.yaml')]);
    expect(stdout).toMatch(/virtualbmc\.qemu-bmc\.dev\/node1 created \(server dry run\)/);
  });
});
