// The operator against a real kube-apiserver (+ etcd, kwok for Running pods): the real operator process
// reconciles VirtualBMCs applied with kubectl; the test plays the scheduler (the bed has none).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BED_APISERVER_ARGS,
  envOf,
  getJson,
  httpGet,
  kwokNode,
  metricsReaderToken,
  type OperatorProcess,
  type PodJson,
  schedulePods,
  startOperator,
  waitFor,
} from '../../operator/testing/cluster-harness.ts';
import { type Cluster, startCluster } from '../support/cluster.ts';
import { freePort } from '../support/ports.ts';
import { requireCommand, requireFile } from '../support/require.ts';

const NS = 'default';
const execFileAsync = promisify(execFile);

interface VbmcJson {
  metadata: { name: string; uid: string; finalizers?: string[]; generation: number };
  spec: Record<string, unknown>;
  status?: {
    observedGeneration?: number;
    powerState?: string;
    serviceIP?: string;
    podName?: string;
    endpoints?: { redfish?: string; ipmi?: string; console?: string };
    conditions?: { type: string; status: string; reason: string; message: string }[];
  };
}

interface Owned {
  metadata: { name: string; ownerReferences?: { uid: string; kind: string; controller?: boolean }[] };
}

const condition = (v: VbmcJson, type: string) => v.status?.conditions?.find((c) => c.type === type);

interface EventJson {
  metadata: { name: string };
  type: string;
  reason: string;
  action: string;
  note: string;
  reportingController: string;
  reportingInstance: string;
  regarding: { kind: string; name: string; uid: string };
  series?: { count: number };
}

/** The events.k8s.io Events about one VirtualBMC, oldest first. */
async function eventsAbout(cluster: Cluster, name: string): Promise<EventJson[]> {
  const list = await getJson<{ items: (EventJson & { eventTime: string })[] }>(cluster, [
    'get',
    'events.events.k8s.io',
    '-n',
    NS,
    '--field-selector',
    `regarding.name=${name},regarding.kind=VirtualBMC`,
  ]);
  return list.items.sort((a, b) => a.eventTime.localeCompare(b.eventTime));
}

/** Waits until an Event with this reason (and a note matching) exists about the VirtualBMC. */
function eventWith(cluster: Cluster, name: string, reason: string, note: RegExp = /./): Promise<EventJson> {
  return waitFor(
    `Event ${reason} on ${name}`,
    async () => (await eventsAbout(cluster, name)).find((e) => e.reason === reason && note.test(e.note)),
    120,
  );
}

describe('operator on a real apiserver', () => {
  let cluster: Cluster;
  let dir: string;
  let operator: OperatorProcess;
  let agentPort: number;
  let agent: ChildProcess | undefined;

  beforeAll(async () => {
    agentPort = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'qemu-bmc-operator-'));
    cluster = await startCluster({ kwok: true, apiserverArgs: BED_APISERVER_ARGS });
    await cluster.kubectl(['apply', '-f', 'crds/virtualbmc.yaml']);
    await cluster.kubectl(['wait', '--for=condition=Established', 'crd/virtualbmcs.qemu-bmc.dev', '--timeout=60s']);
    await cluster.kubectl(['apply', '-f', '-'], kwokNode);
    // The agent for VirtualBMC "live" runs on loopback, not behind its (unroutable) Service IP.
    // Resync every 10 s (the minimum), so the unchanged resyncs whose Events are counted happen within the test.
    operator = await startOperator(cluster, dir, 'op-a', {
      AGENT_ENDPOINTS: `${NS}/live=127.0.0.1:${agentPort}`,
      RESYNC_SECONDS: '10',
    });
  });

  afterAll(async () => {
    if (agent && agent.exitCode === null) {
      const exited = new Promise((r) => agent?.once('exit', r));
      agent.kill('SIGTERM');
      await exited;
    }
    await operator?.stop();
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('applying the minimal example creates Secret, Service, PVCs and the agent pod, owned by the VirtualBMC', async () => {
    await cluster.kubectl(['apply', '-n', NS, '-f', 'docs/examples/virtualbmc-minimal.yaml']);
    const vbmc = await waitFor(
      'finalizer on node1',
      async () => {
        const v = await getJson<VbmcJson>(cluster, ['get', 'vbmc', 'node1', '-n', NS]);
        return v.metadata.finalizers?.includes('qemu-bmc.dev/cleanup') ? v : undefined;
      },
      120,
    );
    const pod = await waitFor(
      'pod node1-bmc',
      () => getJson<PodJson>(cluster, ['get', 'pod', 'node1-bmc', '-n', NS]),
      120,
    );
    const service = await getJson<Owned & { spec: { clusterIP: string; ports: { port: number; protocol: string }[] } }>(
      cluster,
      ['get', 'service', 'node1-bmc', '-n', NS],
    );
    const secret = await getJson<Owned & { data: Record<string, string> }>(cluster, [
      'get',
      'secret',
      'node1-bmc',
      '-n',
      NS,
    ]);
    const pvcs = await getJson<{ items: Owned[] }>(cluster, [
      'get',
      'pvc',
      '-n',
      NS,
      '-l',
      'qemu-bmc.dev/virtualbmc=node1',
    ]);
    for (const child of [pod as unknown as Owned, service, secret, ...pvcs.items]) {
      expect(child.metadata.ownerReferences, child.metadata.name).toEqual([
        expect.objectContaining({ kind: 'VirtualBMC', uid: vbmc.metadata.uid, controller: true }),
      ]);
    }
    expect(pvcs.items.map((p) => p.metadata.name).sort()).toEqual(['node1-disk-root', 'node1-state']);
    expect(service.spec.ports.map((p) => `${p.port}/${p.protocol}`)).toEqual(['443/TCP', '623/UDP']);
    // The agent advertises the Service IP, so MAAS registers the cluster IP.
    expect(envOf(pod)['BMC_ADDRESS']).toBe(service.spec.clusterIP);
    expect(Object.keys(secret.data).sort()).toEqual(['password', 'tls.crt', 'tls.key', 'username']);
    const password = Buffer.from(secret.data['password'] ?? '', 'base64').toString();
    expect(password).toHaveLength(20);
    expect(password).not.toBe('password');

    // Events on the VirtualBMC say what was created: the Secret by name (never the password), Service, pod.
    const secretEvent = await eventWith(cluster, 'node1', 'SecretCreated');
    expect(secretEvent).toMatchObject({
      type: 'Normal',
      action: 'Create',
      note: 'created Secret node1-bmc: generated the agent TLS certificate and credentials for user admin',
      reportingController: 'qemu-bmc.dev/operator',
      reportingInstance: 'op-a',
      regarding: { kind: 'VirtualBMC', name: 'node1', uid: vbmc.metadata.uid },
    });
    await eventWith(cluster, 'node1', 'ServiceCreated', /^created Service node1-bmc \(ClusterIP\)$/);
    await eventWith(cluster, 'node1', 'PodCreated', /^created agent pod node1-bmc$/);
    const all = await eventsAbout(cluster, 'node1');
    expect(JSON.stringify(all)).not.toContain(password);
    // Each happened once.
    expect(
      all
        .filter((e) => e.reason.endsWith('Created'))
        .map((e) => `${e.reason} x${e.series?.count ?? 1}`)
        .sort(),
    ).toEqual(['PodCreated x1', 'SecretCreated x1', 'ServiceCreated x1']);
  });

  it('status shows endpoints and explains why it is not Ready while the pod is unscheduled', async () => {
    const v = await waitFor(
      'status with endpoints',
      async () => {
        const v = await getJson<VbmcJson>(cluster, ['get', 'vbmc', 'node1', '-n', NS]);
        return v.status?.endpoints?.ipmi ? v : undefined;
      },
      120,
    );
    expect(v.status?.endpoints?.ipmi).toBe(`${v.status?.serviceIP}:623`);
    expect(v.status?.endpoints?.redfish).toBe(`https://${v.status?.serviceIP}/redfish/v1`);
    expect(condition(v, 'Ready')).toMatchObject({ status: 'False', reason: 'PodNotRunning' });
    expect(condition(v, 'PodScheduled')?.status).not.toBe('True');
    const { stdout } = await cluster.kubectl(['get', 'vbmc', '-n', NS]);
    expect(stdout.split('\n')[0]).toMatch(/^NAME\s+POWER\s+READY\s+IPMI\s+REDFISH\s+AGE/);
  });

  it('a spec change rolls out: the pod is replaced with the new VM shape', async () => {
    const before = await getJson<PodJson>(cluster, ['get', 'pod', 'node1-bmc', '-n', NS]);
    expect(envOf(before)['VM_CPUS']).toBe('2');
    await cluster.kubectl(['patch', 'vbmc', 'node1', '-n', NS, '--type=merge', '-p', '{"spec":{"vm":{"cpus":3}}}']);
    const after = await waitFor(
      'replaced pod',
      async () => {
        const p = await getJson<PodJson>(cluster, ['get', 'pod', 'node1-bmc', '-n', NS]);
        return p.metadata.uid !== before.metadata.uid ? p : undefined;
      },
      120,
    );
    expect(envOf(after)['VM_CPUS']).toBe('3');
    // The Event says why the pod was recreated, naming what changed.
    await eventWith(
      cluster,
      'node1',
      'PodRecreating',
      /^deleted agent pod node1-bmc to recreate it: the VirtualBMC spec changed \(VM_CPUS\)$/,
    );
    await waitFor(
      'a second PodCreated (a series)',
      async () => (await eventsAbout(cluster, 'node1')).find((e) => e.reason === 'PodCreated' && e.series?.count === 2),
      120,
    );
    const v = await waitFor(
      'observedGeneration 2',
      async () => {
        const v = await getJson<VbmcJson>(cluster, ['get', 'vbmc', 'node1', '-n', NS]);
        return v.status?.observedGeneration === v.metadata.generation ? v : undefined;
      },
      120,
    );
    expect(v.metadata.generation).toBe(2);
  });

  it('the pod reaches Running once scheduled; the status follows', async () => {
    await waitFor('pod bound', async () => (await schedulePods(cluster, NS)) > 0 || undefined, 60);
    const v = await waitFor(
      'PodScheduled',
      async () => {
        const v = await getJson<VbmcJson>(cluster, ['get', 'vbmc', 'node1', '-n', NS]);
        return condition(v, 'PodScheduled')?.status === 'True' && condition(v, 'AgentReachable')?.status !== undefined
          ? v
          : undefined;
      },
      120,
    );
    // No agent answers at the (unroutable) Service IP: not Ready, and it says why.
    expect(condition(v, 'Ready')?.status).toBe('False');
    expect(v.status?.podName).toBe('node1-bmc');
  });

  it('applies every example in docs/examples', async () => {
    for (const file of ['virtualbmc-maas.yaml', 'virtualbmc-credentials.yaml']) {
      await cluster.kubectl(['apply', '-n', NS, '-f', `docs/examples/${file}`]);
    }
    const pod = await waitFor(
      'pod node2-bmc',
      () => getJson<PodJson>(cluster, ['get', 'pod', 'node2-bmc', '-n', NS]),
      120,
    );
    const env = Object.fromEntries((pod.spec.containers[0]?.env ?? []).map((e) => [e.name, e]));
    expect(env['IPMI_PASS']).toMatchObject({
      valueFrom: { secretKeyRef: { name: 'lab-bmc-credentials', key: 'pass' } },
    });
    // A LoadBalancer BMC waits for its external address (what MAAS will register), then starts advertising it.
    await waitFor(
      'maas-node1 LoadBalancerPending',
      async () => {
        const v = await getJson<VbmcJson>(cluster, ['get', 'vbmc', 'maas-node1', '-n', NS]);
        return condition(v, 'Ready')?.reason === 'LoadBalancerPending' || undefined;
      },
      120,
    );
    await expect(cluster.kubectl(['get', 'pod', 'maas-node1-bmc', '-n', NS])).rejects.toThrow(/not found/);
    // Play the load-balancer controller.
    await cluster.kubectl([
      'patch',
      'service',
      'maas-node1-bmc',
      '-n',
      NS,
      '--subresource=status',
      '--type=merge',
      '-p',
      '{"status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.10"}]}}}',
    ]);
    const maas = await waitFor(
      'pod maas-node1-bmc',
      () => getJson<PodJson>(cluster, ['get', 'pod', 'maas-node1-bmc', '-n', NS]),
      120,
    );
    expect(maas.metadata.annotations?.['k8s.v1.cni.cncf.io/networks']).toBe('maas-pxe');
    expect(envOf(maas)['BMC_ADDRESS']).toBe('192.0.2.10');
    expect(envOf(maas)['VM_BOOT_MODE']).toBe('uefi');
    const maasVbmc = await waitFor(
      'maas-node1 endpoints on the LB address',
      async () => {
        const v = await getJson<VbmcJson>(cluster, ['get', 'vbmc', 'maas-node1', '-n', NS]);
        return v.status?.endpoints?.ipmi === '192.0.2.10:623' ? v : undefined;
      },
      120,
    );
    expect(maasVbmc.status?.endpoints?.redfish).toBe('https://192.0.2.10/redfish/v1');
    const own = await getJson<{ data: Record<string, string> }>(cluster, ['get', 'secret', 'node2-bmc', '-n', NS]);
    expect(Object.keys(own.data).sort()).toEqual(['tls.crt', 'tls.key']);
  });

  it('invalid specs are rejected by the apiserver with the schema message', async () => {
    const base = (name: string, vm: string, extra = '') =>
      `apiVersion: qemu-bmc.dev/v1alpha1\nkind: VirtualBMC\nmetadata: {name: ${name}}\nspec:\n  vm: ${vm}\n${extra}`;
    const cases: [string, RegExp][] = [
      [
        base('bad-src', '{disks: [{name: root, size: 10Gi, sourceImage: "ftp://x/y.img"}]}'),
        /sourceImage must be an http:\/\/ or https:\/\/ URL/,
      ],
      [base('bad-cd', '{cdrom: {image: "file:///etc/passwd"}}'), /cdrom.image must be an http:\/\/ or https:\/\/ URL/],
      [base('bad-boot', '{bootOrder: [cdrom]}'), /vm.bootOrder lists cdrom but vm.cdrom is not set/],
      [base('bad-mem', '{memory: 4GB}'), /spec.vm.memory/],
      [base('tiny-mem', '{memory: 64Mi}'), /vm.memory must be between 128Mi and 256Gi/],
      [base('bad-size', '{disks: [{name: root, size: 20G}]}'), /spec.vm.disks\[0\].size/],
      [base('bad-args', '{extraArgs: ["-device virtio-rng-pci"]}'), /spec.vm.extraArgs\[0\]/],
      [base('bad-accel', '{accelerator: hvf}'), /Unsupported value: "hvf"/],
      [base('1starts-with-digit', '{}'), /metadata.name must be a DNS label that starts with a letter/],
      [base('bad-svc', '{}', '  service: {type: ExternalName}\n'), /Unsupported value: "ExternalName"/],
      [base('bad-power', '{}', '  power: {restorePolicy: Sometimes}\n'), /Unsupported value: "Sometimes"/],
    ];
    for (const [yaml, message] of cases) {
      await expect(cluster.kubectl(['apply', '-n', NS, '-f', '-'], yaml), yaml).rejects.toThrow(message);
    }
    await cluster.kubectl(['apply', '-n', NS, '-f', '-'], base('shrink', '{disks: [{name: root, size: 20Gi}]}'));
    await expect(
      cluster.kubectl(['apply', '-n', NS, '-f', '-'], base('shrink', '{disks: [{name: root, size: 10Gi}]}')),
    ).rejects.toThrow(/a disk's size cannot shrink/);
    const { stdout } = await cluster.kubectl(['get', 'vbmc', '-n', NS, '-o', 'name']);
    expect(stdout).not.toMatch(/bad-/);
  });

  it('with its agent answering, the VirtualBMC is Ready, and a power action shows in kubectl get vbmc within 2 s', async () => {
    const agentMain = requireFile('bmc-agent/src/main.ts', 'the agent entry point bmc-agent/src/main.ts (agent issue)');
    requireCommand('qemu-system-x86_64', 'npm run bed -- apt');
    await cluster.kubectl(
      ['apply', '-n', NS, '-f', '-'],
      'apiVersion: qemu-bmc.dev/v1alpha1\nkind: VirtualBMC\nmetadata: {name: live}\nspec:\n  vm: {cpus: 1, memory: 128Mi, bootOrder: [network], accelerator: tcg}\n',
    );
    await waitFor('pod live-bmc', () => getJson<PodJson>(cluster, ['get', 'pod', 'live-bmc', '-n', NS]), 120);
    await waitFor('pod bound', async () => (await schedulePods(cluster, NS)) > 0 || undefined, 60);
    const unreachable = await waitFor(
      'AgentReachable=False',
      async () => {
        const v = await getJson<VbmcJson>(cluster, ['get', 'vbmc', 'live', '-n', NS]);
        return condition(v, 'AgentReachable')?.status === 'False' ? v : undefined;
      },
      120,
    );
    expect(condition(unreachable, 'Ready')).toMatchObject({ status: 'False', reason: 'AgentUnreachable' });
    expect(unreachable.status?.powerState).toBe('Unknown');

    // Run the real agent with what the operator gave the pod: its Secret (TLS pair, generated credentials),
    // the Service IP as BMC address, the VirtualBMC's UID as VM UUID.
    const secret = await getJson<{ data: Record<string, string> }>(cluster, ['get', 'secret', 'live-bmc', '-n', NS]);
    const field = (k: string) => Buffer.from(secret.data[k] ?? '', 'base64').toString();
    const pod = await getJson<PodJson>(cluster, ['get', 'pod', 'live-bmc', '-n', NS]);
    const podEnv = envOf(pod);
    const agentDir = join(dir, 'agent');
    mkdirSync(join(agentDir, 'state'), { recursive: true });
    writeFileSync(join(agentDir, 'tls.crt'), field('tls.crt'));
    writeFileSync(join(agentDir, 'tls.key'), field('tls.key'), { mode: 0o600 });
    const [ipmiPort, vncPort, serialPort] = [await freePort('udp'), await freePort(), await freePort()];
    const logFd = openSync(join(dir, 'agent.log'), 'a');
    agent = spawn(join(process.cwd(), 'node_modules/.bin/node'), [agentMain], {
      env: {
        PATH: process.env['PATH'] ?? '',
        QEMU_MODE: 'managed',
        IPMI_USER: field('username'),
        IPMI_PASS: field('password'),
        REDFISH_PORT: String(agentPort),
        IPMI_PORT: String(ipmiPort),
        VNC_PORT: String(vncPort),
        SERIAL_ADDR: `127.0.0.1:${serialPort}`,
        TLS_CERT: join(agentDir, 'tls.crt'),
        TLS_KEY: join(agentDir, 'tls.key'),
        STATE_DIR: join(agentDir, 'state'),
        BMC_ADDRESS: podEnv['BMC_ADDRESS'] ?? '',
        BMC_MAC: podEnv['BMC_MAC'] ?? '',
        VM_UUID: podEnv['VM_UUID'] ?? '',
        VM_CPUS: '1',
        VM_MEMORY: '128',
        VM_DISK: '',
        VM_BOOT: 'n',
        ENABLE_KVM: 'false',
        GRACEFUL_SHUTDOWN_TIMEOUT: '5',
        LOG_LEVEL: 'debug',
      },
      stdio: ['ignore', logFd, logFd],
    });
    closeSync(logFd);

    const ready = await waitFor(
      'Ready=True',
      async () => {
        const v = await getJson<VbmcJson>(cluster, ['get', 'vbmc', 'live', '-n', NS]);
        return condition(v, 'Ready')?.status === 'True' ? v : undefined;
      },
      240,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nagent log:\n${readFileSync(join(dir, 'agent.log'), 'utf8').slice(-3000)}`);
    });
    expect(ready.status?.powerState).toBe('Off');
    expect(condition(ready, 'AgentReachable')?.status).toBe('True');
    await eventWith(cluster, 'live', 'Ready', /^Ready: the BMC answers on its endpoints$/);
    await eventWith(cluster, 'live', 'PowerOff', /^the agent reports the VM powered off$/);

    const reset = (type: string) =>
      new Promise<number | undefined>((resolve, reject) => {
        const body = JSON.stringify({ ResetType: type });
        const req = https.request(
          {
            host: '127.0.0.1',
            port: agentPort,
            method: 'POST',
            path: '/redfish/v1/Systems/1/Actions/ComputerSystem.Reset',
            ca: field('tls.crt'),
            checkServerIdentity: () => undefined,
            auth: `${field('username')}:${field('password')}`,
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    // The 2 s bound is the acceptance criterion for the agent link, not a performance benchmark.
    const shows = async (power: string) => {
      const deadline = Date.now() + 2_000;
      let last = '';
      while (Date.now() < deadline) {
        last = (await cluster.kubectl(['get', 'vbmc', 'live', '-n', NS])).stdout;
        if (new RegExp(`^live\\s+${power}\\s+True\\s`, 'm').test(last)) return last;
      }
      throw new Error(`kubectl get vbmc did not show ${power} within 2 s:\n${last}`);
    };
    expect(await reset('On')).toBeLessThan(300);
    expect(await shows('On')).toContain(`${ready.status?.serviceIP}:623`);
    expect(await reset('ForceOff')).toBeLessThan(300);
    await shows('Off');
    await eventWith(cluster, 'live', 'PowerOn', /^the agent reports the VM powered on$/);
    await waitFor(
      'PowerOff x2',
      async () => (await eventsAbout(cluster, 'live')).find((e) => e.reason === 'PowerOff' && e.series?.count === 2),
      40,
    );
    // The same through IPMI, as MAAS drives it.
    const ipmitool = requireCommand('ipmitool', 'npm run bed -- apt');
    const lan = [
      '-I',
      'lanplus',
      '-H',
      '127.0.0.1',
      '-p',
      String(ipmiPort),
      '-U',
      field('username'),
      '-P',
      field('password'),
    ];
    await execFileAsync(ipmitool, [...lan, 'chassis', 'power', 'on']);
    await shows('On');
    await execFileAsync(ipmitool, [...lan, 'chassis', 'power', 'off']);
    await shows('Off');
    // Each repeat is the same Event again: a series, not new objects.
    for (const [reason, count] of [
      ['PowerOn', 2],
      ['PowerOff', 3],
    ] as const)
      await waitFor(
        `${reason} x${count}`,
        async () => (await eventsAbout(cluster, 'live')).find((e) => e.reason === reason && e.series?.count === count),
        40,
      );
    // What a user sees.
    const { stdout: described } = await cluster.kubectl(['describe', 'vbmc', 'live', '-n', NS]);
    const eventsSection = described.slice(described.indexOf('\nEvents:'));
    expect(eventsSection).toMatch(/Normal\s+PodCreated\s+\S+\s+qemu-bmc\.dev\/operator\s+created agent pod live-bmc/);
    expect(eventsSection).toMatch(/Normal\s+Ready\s+.*Ready: the BMC answers on its endpoints/);
    expect(eventsSection).toMatch(/Normal\s+PowerOn\s+\S+ \(x2 over \S+\)\s+.*the agent reports the VM powered on/);
    expect(eventsSection).toMatch(/Normal\s+PowerOff\s+\S+ \(x3 over \S+\)\s+.*the agent reports the VM powered off/);
    writeFileSync(join(dir, 'describe-live.txt'), described);
    if (process.env['QEMU_BMC_SHOW_DESCRIBE']) process.stdout.write(described);
    // A boot override set over IPMI appears in the status.
    await execFileAsync(ipmitool, [...lan, 'chassis', 'bootdev', 'pxe']);
    const boot = await waitFor(
      'bootOverride Pxe',
      async () => {
        const v = await getJson<VbmcJson & { status: { bootOverride?: { target?: string } } }>(cluster, [
          'get',
          'vbmc',
          'live',
          '-n',
          NS,
        ]);
        return v.status.bootOverride?.target === 'Pxe' ? v.status.bootOverride : undefined;
      },
      40,
    );
    expect(boot).toMatchObject({ target: 'Pxe', enabled: 'Once' });

    // The agent goes away: the status says so instead of keeping a stale power state.
    const exited = new Promise((r) => agent?.once('exit', r));
    agent.kill('SIGTERM');
    await exited;
    const gone = await waitFor(
      'AgentReachable=False again',
      async () => {
        const v = await getJson<VbmcJson>(cluster, ['get', 'vbmc', 'live', '-n', NS]);
        return condition(v, 'AgentReachable')?.status === 'False' ? v : undefined;
      },
      120,
    );
    expect(gone.status?.powerState).toBe('Unknown');
    expect(condition(gone, 'Ready')?.status).toBe('False');
    // Losing a Ready BMC is a Warning carrying the status's reason and message.
    const lost = await eventWith(cluster, 'live', 'AgentUnreachable', /^not Ready \(was Ready\): /);
    expect(lost.type).toBe('Warning');
    expect(lost.note.length).toBeGreaterThan('not Ready (was Ready): '.length);
  });

  it('unchanged reconciles (resyncs every 10 s here) record no Event', async () => {
    const snapshot = async () => {
      const { stdout } = await cluster.kubectl(['get', 'events.events.k8s.io', '-n', NS, '-o', 'json']);
      const list = JSON.parse(stdout) as { items: EventJson[] };
      return list.items
        .filter((e) => e.reportingController === 'qemu-bmc.dev/operator')
        .map((e) => `${e.metadata.name} ${e.reason} x${e.series?.count ?? 1}`)
        .sort();
    };
    const reconciles = async () =>
      Number(/^qemu_bmc_operator_reconcile_total\{result="success"\} (\d+)/m.exec(await operator.metrics())?.[1]);
    // Quiet first: the last Event written a while ago (the agent link's retries change no condition's reason).
    let before = await snapshot();
    await waitFor(
      'no new Event for 6 s',
      async () => {
        await new Promise((r) => setTimeout(r, 6_000));
        const now = await snapshot();
        const same = JSON.stringify(now) === JSON.stringify(before);
        before = now;
        return same;
      },
      10,
      0,
    );
    const reconcilesBefore = await reconciles();
    await new Promise((r) => setTimeout(r, 25_000));
    expect(await reconciles()).toBeGreaterThan(reconcilesBefore + 4); // two resyncs of every VirtualBMC at least
    expect(await snapshot()).toEqual(before);
  });

  it('deleting a VirtualBMC removes every child, then the finalizer and the object', async () => {
    await cluster.kubectl(['delete', 'vbmc', 'node1', '-n', NS, '--wait=false']);
    await waitFor(
      'node1 gone',
      async () => {
        const { stdout } = await cluster.kubectl(['get', 'vbmc', '-n', NS, '-o', 'name']);
        return !stdout.includes('virtualbmc.qemu-bmc.dev/node1\n') || undefined;
      },
      120,
    );
    const { stdout } = await cluster.kubectl([
      'get',
      'pods,services,secrets,pvc',
      '-n',
      NS,
      '-l',
      'qemu-bmc.dev/virtualbmc=node1',
      '-o',
      'name',
    ]);
    expect(stdout.trim()).toBe('');
    // The user's own credentials Secret is never touched by cleanup of another VirtualBMC.
    await cluster.kubectl(['get', 'secret', 'lab-bmc-credentials', '-n', NS]);
    // The cleanup's pod delete is an Event too (Events outlive their object until their TTL).
    await eventWith(cluster, 'node1', 'PodDeleted', /^deleted agent pod node1-bmc \(cleanup: /);
  });

  it('serves /healthz, /readyz and /metrics with reconcile and power-state metrics', async () => {
    const text = await operator.metrics();
    expect(text).toMatch(/^qemu_bmc_operator_reconcile_total\{result="success"\} [1-9]/m);
    expect(text).toMatch(/^qemu_bmc_operator_workqueue_depth \d+/m);
    expect(text).toMatch(/^qemu_bmc_operator_virtualbmcs\{power_state="Unknown"\} [1-9]/m);
    expect(text).toMatch(/^qemu_bmc_operator_is_leader 1/m);
    expect(await httpGet(`http://127.0.0.1:${operator.port}/healthz`)).toBe('ok\n');
    expect(await httpGet(`http://127.0.0.1:${operator.port}/readyz`)).toBe('leading\n');
    expect(readFileSync(operator.logPath, 'utf8').split('\n')[0]).toMatch(
      /^\{"level":30,"time":".+","component":"operator"/,
    );
  });

  it('answers /metrics only to a Kubernetes identity allowed GET /metrics (TokenReview, SubjectAccessReview)', async () => {
    const url = `http://127.0.0.1:${operator.port}/metrics`;
    const status = (headers: Record<string, string> = {}) =>
      new Promise<{ code: number; body: string; challenge: string | undefined }>((resolve, reject) => {
        const req = httpRequest(url, { headers, timeout: 5_000 }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            body += c;
          });
          res.on('end', () => resolve({ code: res.statusCode ?? 0, body, challenge: res.headers['www-authenticate'] }));
        });
        req.on('error', reject);
        req.end();
      });
    const anonymous = await status();
    expect(anonymous.code).toBe(401);
    expect(anonymous.challenge).toMatch(/^Bearer /);
    expect((await status({ authorization: 'Bearer not-a-token' })).code).toBe(401);
    expect((await status({ authorization: 'Basic YWRtaW46YWRtaW4=' })).code).toBe(401);
    // A real identity without the RBAC rule is known but refused.
    await cluster.kubectl(['create', 'serviceaccount', 'no-metrics', '-n', 'default']);
    const { stdout } = await cluster.kubectl(['create', 'token', 'no-metrics', '-n', 'default']);
    const refused = await status({ authorization: `Bearer ${stdout.trim()}` });
    expect(refused.code).toBe(403);
    expect(refused.body).toMatch(/system:serviceaccount:default:no-metrics may not get \/metrics/);
    const allowed = await status({ authorization: `Bearer ${await metricsReaderToken(cluster)}` });
    expect(allowed.code).toBe(200);
    expect(allowed.body).toMatch(/^qemu_bmc_operator_is_leader 1/m);
  });
});
