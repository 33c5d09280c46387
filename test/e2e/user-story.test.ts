// The whole user story on a real single-node Kubernetes (test/support/node.ts): helm install the chart, kubectl apply
// a VirtualBMC from docs/examples/, and drive the BMC from outside the pod as MAAS does, through the Service's cluster
// IP: ipmitool lanplus and curl power the VM on, set PXE boot and read status. Inside the VM (the guest fixture,
// under TCG in the agent pod), the in-band MAAS user set-up; the user it creates then works out of band. Metrics of
// the operator and the agent are scraped in Prometheus text format; deleting the VirtualBMC removes everything.
// Every step is logged with its duration (test-results/e2e-steps.log).

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { type Cluster, startCluster } from '../support/cluster.ts';
import { startIronic } from '../support/ironic.ts';
import { parsePrometheusText, sampleValue } from '../support/prometheus.ts';
import { requireCommand } from '../support/require.ts';
import { startRufio } from '../support/rufio.ts';
import {
  buildImages,
  client,
  E2E_AGENT_IMAGE,
  eventually,
  GUEST_LOG,
  guestQemuArgs,
  hostPathVolumes,
  OPERATOR_IMAGE,
  progress,
  repoRoot,
  step,
} from './support.ts';

const NAMESPACE = 'e2e';
const RELEASE = 'qemu-bmc';
const OPERATOR_NAMESPACE = 'qemu-bmc-system';
const MAAS_PASSWORD = `maas-${randomBytes(4).toString('hex')}`;
const example = join(repoRoot, 'docs/examples/virtualbmc-minimal.yaml');

let cluster: Cluster;
let name: string; // the VirtualBMC, from the example
let clusterIp: string;
let username: string;
let password: string;

const kubectl = async (args: string[], input?: string): Promise<string> => (await cluster.kubectl(args, input)).stdout;
const jsonpath = (args: string[], path: string): Promise<string> => kubectl([...args, '-o', `jsonpath=${path}`]);

function ipmitool(user: string, pass: string, args: string[], cipher = '17') {
  return client('ipmitool', [
    '-I',
    'lanplus',
    '-H',
    clusterIp,
    '-p',
    '623',
    '-U',
    user,
    '-P',
    pass,
    '-C',
    cipher,
    ...args,
  ]);
}

async function redfish(path: string, method = 'GET', body?: unknown): Promise<{ status: number; json: unknown }> {
  const args = [
    '-sk',
    '-u',
    `${username}:${password}`,
    '-X',
    method,
    '-w',
    '\n%{http_code}',
    `https://${clusterIp}${path}`,
  ];
  if (body !== undefined) args.push('-H', 'Content-Type: application/json', '-d', JSON.stringify(body));
  const r = await client('curl', args);
  const lines = r.stdout.trimEnd().split('\n');
  const status = Number(lines.pop());
  const text = lines.join('\n');
  return { status, json: text ? JSON.parse(text) : undefined };
}

async function guestLog(): Promise<string> {
  return kubectl(['-n', NAMESPACE, 'exec', `${name}-bmc`, '--', 'cat', GUEST_LOG]).catch(() => '');
}

/** The guest finished its script more than `before` times and powered off; the CR shows Off. */
async function guestRanAgainAndPoweredOff(before: number): Promise<void> {
  await eventually(
    'one more QBMC-END in the guest console',
    async () => (guestRuns(await guestLog()) > before ? true : undefined),
    300_000,
    2_000,
  );
  await eventually('POWER=Off', async () => ((await vbmcRow())['POWER'] === 'Off' ? true : undefined), 120_000);
}

const guestRuns = (log: string): number => (log.match(/^QBMC-END rc=0$/gm) ?? []).length;

/** The VirtualBMC's row as `kubectl get vbmc` prints it. */
async function vbmcRow(): Promise<Record<string, string>> {
  const out = await kubectl(['-n', NAMESPACE, 'get', 'vbmc', name]);
  const [header = '', row = ''] = out.trim().split('\n');
  const keys = header.split(/\s{2,}/);
  const values = row.split(/\s{2,}/);
  return Object.fromEntries(keys.map((k, i) => [k, values[i] ?? '']));
}

/** The shell block of a doc between <!-- e2e:NAME --> and <!-- /e2e:NAME -->, without its fences. */
function docBlock(path: string, blockName: string): string {
  const text = readFileSync(path, 'utf8');
  const match = new RegExp(
    `<!-- e2e:${blockName} -->\\n\`\`\`sh\\n([\\s\\S]*?)\`\`\`\\n<!-- /e2e:${blockName} -->`,
  ).exec(text);
  if (!match?.[1]) throw new Error(`${path}: no block e2e:${blockName}`);
  return match[1];
}

/** Runs a doc block with bash (-e, pipefail) as a user would: kubectl on PATH, the story's namespace as default. */
async function runDocBlock(block: string): Promise<string> {
  const kubeconfig = join(cluster.kubeconfig, '..', 'kubeconfig-e2e');
  await cluster
    .kubectl([`--kubeconfig=${cluster.kubeconfig}`, 'config', 'view', '--raw', '--flatten'])
    .then(({ stdout }) => writeFileSync(kubeconfig, stdout, { mode: 0o600 }));
  await cluster.kubectl([
    `--kubeconfig=${kubeconfig}`,
    'config',
    'set-context',
    '--current',
    `--namespace=${NAMESPACE}`,
  ]);
  const r = spawnSync('bash', ['-euo', 'pipefail', '-c', block], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, KUBECONFIG: kubeconfig, PATH: `${cluster.binDir}:${process.env['PATH'] ?? ''}` },
  });
  if (r.status !== 0)
    throw new Error(`doc block failed (exit ${r.status}):\n${block}\n--- output:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** Host PIDs in the pod's cgroup (the kubelet names pod cgroups pod<uid> with cgroupfs). */
function podProcesses(podUid: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cgroup`, 'utf8').includes(`pod${podUid}`)) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

describe('e2e: a real single-node Kubernetes', () => {
  beforeAll(async () => {
    for (const tool of ['ipmitool', 'curl', 'docker']) requireCommand(tool, 'npm run bed -- apt docker');
    await step('build the agent, operator and e2e agent images with docker', () => buildImages(MAAS_PASSWORD));
    cluster = await step('start etcd, kube-apiserver, controller-manager, scheduler and the node', () =>
      startCluster({ node: true, log: progress }),
    );
    const node = cluster.node;
    if (!node) throw new Error('the cluster started without its node');
    await step('copy the images from Docker into the node', () => node.loadImages([OPERATOR_IMAGE, E2E_AGENT_IMAGE]));
  }, 1_500_000);

  // One story: once a step fails, the later ones fail at once instead of waiting on what never came.
  let broken: string | undefined;
  beforeEach(() => {
    if (broken) throw new Error(`not run: an earlier step failed (${broken})`);
  });
  afterEach((context) => {
    if (context.task.result?.state === 'fail') broken ??= context.task.name;
  });

  afterAll(async () => {
    if (cluster?.node) {
      for (const component of ['kubelet', 'containerd', 'kube-proxy'] as const)
        progress(`${component} log tail:\n${cluster.node.logTail(component, 15)}`);
    }
    await step('stop the cluster and the node', () => cluster?.stop());
  }, 300_000);

  it('helm install: the operator runs in a real pod and takes the lease', async () => {
    await step('helm install the chart', () =>
      cluster.helm(
        [
          'install',
          RELEASE,
          join(repoRoot, 'charts/qemu-bmc'),
          '--namespace',
          OPERATOR_NAMESPACE,
          '--create-namespace',
          '--set',
          `image.repository=${OPERATOR_IMAGE.split(':')[0]},image.tag=${OPERATOR_IMAGE.split(':')[1]}`,
          '--set',
          'image.pullPolicy=Never',
          '--set',
          `agentImage.repository=${E2E_AGENT_IMAGE.split(':')[0]},agentImage.tag=${E2E_AGENT_IMAGE.split(':')[1]}`,
          '--wait',
          '--timeout',
          '5m',
        ],
        undefined,
      ),
    );
    const ready = await jsonpath(
      ['-n', OPERATOR_NAMESPACE, 'get', 'deployment', `${RELEASE}`],
      '{.status.readyReplicas}',
    ).catch(async () => jsonpath(['-n', OPERATOR_NAMESPACE, 'get', 'deployments'], '{.items[0].status.readyReplicas}'));
    expect(ready).toBe('1');
    const pods = await kubectl(['-n', OPERATOR_NAMESPACE, 'get', 'pods', '-o', 'wide']);
    progress(`operator pods:\n${pods}`);
    expect(pods).toMatch(/Running/);
    // The operator in the pod talks to the apiserver through the "kubernetes" Service: it holds the lease.
    const holder = await eventually(
      'the operator to hold its leader lease',
      async () => {
        const out = await kubectl([
          '-n',
          OPERATOR_NAMESPACE,
          'get',
          'lease',
          '-o',
          'jsonpath={.items[*].spec.holderIdentity}',
        ]);
        return out.trim() ? out.trim() : undefined;
      },
      120_000,
    );
    expect(holder).toMatch(/qemu-bmc/);
  });

  it('kubectl apply of the example VirtualBMC: the agent pod runs QEMU and kubectl get vbmc shows it', async () => {
    await step('provision hostPath PersistentVolumes (no storage provisioner on this node)', async () => {
      const pvDir = join(cluster.kubeconfig, '..', 'volumes');
      await kubectl(['apply', '-f', '-'], hostPathVolumes(pvDir, ['1Gi', '20Gi']));
    });
    const manifest = parse(readFileSync(example, 'utf8')) as {
      metadata: { name: string; namespace?: string };
      spec: { vm: Record<string, unknown>; agent?: Record<string, unknown> };
    };
    name = manifest.metadata.name;
    // The example as it is, plus what this machine needs: TCG (no KVM in the pod), a small VM, and the guest
    // fixture booted directly instead of a disk.
    manifest.metadata.namespace = NAMESPACE;
    manifest.spec.vm = { ...manifest.spec.vm, cpus: 1, memory: '512Mi', accelerator: 'tcg', extraArgs: guestQemuArgs };
    await step(`kubectl apply -f ${example.slice(repoRoot.length + 1)} (namespace ${NAMESPACE})`, async () => {
      await kubectl(['create', 'namespace', NAMESPACE]);
      await kubectl(['apply', '-f', '-'], stringify(manifest));
    });
    await step('wait for the agent pod to run and the VirtualBMC to be Ready', async () => {
      await eventually(
        'the VirtualBMC to be Ready',
        async () => ((await vbmcRow())['READY'] === 'True' ? true : undefined),
        300_000,
        2_000,
      );
    });
    const row = await vbmcRow();
    progress(`kubectl get vbmc:\n${await kubectl(['-n', NAMESPACE, 'get', 'vbmc', '-o', 'wide'])}`);
    clusterIp = await jsonpath(['-n', NAMESPACE, 'get', 'service', `${name}-bmc`], '{.spec.clusterIP}');
    expect(clusterIp).toMatch(/^10\.96\.\d+\.\d+$/);
    expect(row['POWER']).toBe('Off');
    expect(row['IPMI']).toBe(`${clusterIp}:623`);
    expect(row['REDFISH']).toBe(`https://${clusterIp}/redfish/v1`);
    const pod = await kubectl(['-n', NAMESPACE, 'get', 'pod', `${name}-bmc`, '-o', 'json']);
    const podJson = JSON.parse(pod) as { status: { phase: string; podIP: string }; spec: { nodeName: string } };
    expect(podJson.status.phase).toBe('Running');
    expect(podJson.spec.nodeName).toBe(cluster.node?.name);
    const secret = JSON.parse(await kubectl(['-n', NAMESPACE, 'get', 'secret', `${name}-bmc`, '-o', 'json'])) as {
      data: Record<string, string>;
    };
    username = Buffer.from(secret.data['username'] ?? '', 'base64').toString();
    password = Buffer.from(secret.data['password'] ?? '', 'base64').toString();
    expect(password.length).toBeGreaterThanOrEqual(12);
  });

  it('as MAAS does, from outside the pod: ipmitool lanplus and curl against the cluster IP power on, set PXE, read status', async () => {
    // docs/maas.md's block as it stands, run by bash with kubectl on PATH and this namespace as the default.
    const block = docBlock(join(repoRoot, 'docs/maas.md'), 'maas-cluster-ip');
    const out = await step(
      'docs/maas.md: ipmitool and curl against the cluster IP (status, bootdev pxe, power on)',
      () => runDocBlock(block),
    );
    progress(`docs/maas.md block printed:\n${out}`);
    expect(out).toMatch(/^Chassis Power is off$/m);
    expect(out).toMatch(/^Set Boot Device to pxe$/m);
    expect(out).toMatch(/^"BootSourceOverrideTarget":"Pxe"$/m);
    expect(out).toMatch(/^Chassis Power Control: Up\/On$/m);
    expect(out).toMatch(new RegExp(`^${name}\\s+\\S+\\s+True\\s+${clusterIp.replaceAll('.', '\\.')}:623\\s`, 'm'));

    // The one-time PXE override the block set was used by its power-on, as on a server.
    const system = await redfish('/redfish/v1/Systems/1');
    expect(system.status).toBe(200);
    const boot = (system.json as { Boot: Record<string, string> }).Boot;
    expect(boot['BootSourceOverrideEnabled']).toBe('Disabled');
    const wrong = await ipmitool(username, 'not-the-password', ['chassis', 'power', 'status']);
    expect(wrong.code).not.toBe(0);
    // The service root answers without credentials (gofish reads it first); Systems does not.
    const root = await client('curl', [
      '-sk',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      `https://${clusterIp}/redfish/v1`,
    ]);
    expect(root.stdout).toBe('200');
    const anonymous = await client('curl', [
      '-sk',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      `https://${clusterIp}/redfish/v1/Systems/1`,
    ]);
    expect(anonymous.stdout).toBe('401');
    await step('kubectl get vbmc shows power On', () =>
      eventually(
        'POWER=On in kubectl get vbmc',
        async () => ((await vbmcRow())['POWER'] === 'On' ? true : undefined),
        60_000,
      ),
    );
    const redfishState = await redfish('/redfish/v1/Systems/1');
    expect((redfishState.json as { PowerState: string }).PowerState).toBe('On');
  });

  it('inside the guest, the in-band MAAS user set-up; that user then works out of band through the cluster IP', async () => {
    const log = await step('the guest boots under TCG in the pod and runs the in-band set-up (ipmitool over KCS)', () =>
      eventually(
        'E2E done in the guest console',
        async () => {
          const text = await guestLog();
          return /^E2E done$/m.test(text) ? text : undefined;
        },
        300_000,
        2_000,
      ),
    );
    progress(
      `guest console:\n${log
        .split('\n')
        .filter((l) => l.startsWith('E2E') || l.startsWith('QBMC'))
        .join('\n')}`,
    );
    for (const stepName of ['user-set-name', 'user-set-password', 'channel-setaccess', 'user-enable'])
      expect(log).toMatch(new RegExp(`^E2E step ${stepName} ok$`, 'm'));
    // The address the BMC reports in-band (LAN parameter 3) is the Service's cluster IP: what MAAS registers.
    expect(log).toMatch(new RegExp(`^E2E lan ip=${clusterIp.replaceAll('.', '\\.')}$`, 'm'));
    expect(log).toMatch(new RegExp(`^E2E bmc-config ip=${clusterIp.replaceAll('.', '\\.')}$`, 'm'));

    const asMaas = await step('ipmitool lanplus as the user the guest created (maas), Administrator', () =>
      ipmitool('maas', MAAS_PASSWORD, ['-L', 'ADMINISTRATOR', 'mc', 'info']),
    );
    expect(asMaas.code).toBe(0);
    expect(asMaas.stdout).toMatch(/IPMI Version\s*:\s*2\.0/);
    const users = await ipmitool(username, password, ['user', 'list', '1']);
    expect(users.stdout).toMatch(/^3\s+maas\s+.*ADMINISTRATOR$/m);

    // Commissioning ends with the guest powering itself off; the CR follows.
    await step('the guest powers off; kubectl get vbmc shows Off', () =>
      eventually(
        'POWER=Off in kubectl get vbmc',
        async () => ((await vbmcRow())['POWER'] === 'Off' ? true : undefined),
        120_000,
      ),
    );
    const status = await ipmitool('maas', MAAS_PASSWORD, ['chassis', 'power', 'status']);
    expect(status.stdout.trim()).toBe('Chassis Power is off');
  });

  it('Tinkerbell Rufio: a Machine pointing at the cluster IP is Contactable; a PXE-boot Job powers the VM on', async () => {
    const rufio = await step('start the Rufio controller (bmc.tinkerbell.org CRDs)', () =>
      startRufio({ kubeconfig: cluster.kubeconfig, kubectl: (args, input) => cluster.kubectl(args, input) }),
    );
    try {
      // docs/examples/rufio/ as the guide has them, pointed at this VirtualBMC's Service and generated Secret.
      const pointed = (file: string): string =>
        readFileSync(join(repoRoot, 'docs/examples/rufio', file), 'utf8')
          .replaceAll('node1-bmc.default.svc', clusterIp)
          .replaceAll('node1-bmc-credentials', `${name}-bmc`)
          .replaceAll('namespace: default', `namespace: ${NAMESPACE}`)
          .replaceAll('name: node1', `name: ${name}`);
      await step('kubectl apply docs/examples/rufio/machine-ipmi.yaml (host: the cluster IP)', () =>
        kubectl(['apply', '-f', '-'], pointed('machine-ipmi.yaml')),
      );
      const machine = await step('the Machine is Contactable and reports power off', () =>
        eventually(
          'Machine Contactable',
          async () => {
            const m = JSON.parse(
              await kubectl(['-n', NAMESPACE, 'get', 'machines.bmc.tinkerbell.org', name, '-o', 'json']),
            ) as {
              status?: { powerState?: string; conditions?: { type: string; status: string }[] };
            };
            const ok = m.status?.conditions?.some((c) => c.type === 'Contactable' && c.status === 'True');
            return ok && m.status?.powerState ? m : undefined;
          },
          120_000,
          2_000,
        ),
      );
      expect(machine.status?.powerState).toBe('off');
      await step('kubectl apply docs/examples/rufio/job-pxe-boot.yaml; the Job completes', async () => {
        await kubectl(['apply', '-f', '-'], pointed('job-pxe-boot.yaml'));
        const conditions = await eventually(
          'the Job to complete or fail',
          async () => {
            const job = JSON.parse(
              await kubectl(['-n', NAMESPACE, 'get', 'jobs.bmc.tinkerbell.org', `${name}-pxe-boot`, '-o', 'json']),
            ) as { status?: { conditions?: { type: string; status: string; message?: string }[] } };
            const list = job.status?.conditions ?? [];
            const done = list.some((c) => (c.type === 'Completed' || c.type === 'Failed') && c.status === 'True');
            return done ? list : undefined;
          },
          180_000,
          2_000,
        );
        expect(conditions.find((c) => c.type === 'Failed')?.status).not.toBe('True');
        expect(conditions.find((c) => c.type === 'Completed')?.status).toBe('True');
      });
      // The Job's power-on boots the guest again; its script runs and it powers off again.
      await step('the VM ran again and powered off; kubectl get vbmc shows Off', () => guestRanAgainAndPoweredOff(1));
    } catch (error) {
      progress(`rufio log tail:\n${rufio.logs().split('\n').slice(-30).join('\n')}`);
      throw error;
    } finally {
      await rufio.stop();
    }
  });

  it('OpenStack Ironic: ipmi and redfish nodes at the cluster IP are manageable; Ironic powers the VM on', async () => {
    const ironic = await step('start Ironic (standalone, sqlite, noauth)', () => startIronic({ name: 'e2e' }));
    try {
      const creds = { BMC_USER: username, BMC_PASS: password };
      // docs/examples/ironic/ as the guide has them, with the cluster IP as the BMC address.
      const ipmiNode = await step('docs/examples/ironic/ipmi-enroll.sh against <cluster IP>:623', async () => {
        const run = await ironic.runExample('ipmi-enroll.sh', {
          ...creds,
          NODE: 'node1-ipmi',
          BMC_HOST: clusterIp,
          IPMI_PORT: '623',
        });
        expect(run.stdout).toMatch(/^manageable$/m);
        return ironic.node('node1-ipmi');
      });
      expect(ipmiNode).toMatchObject({ driver: 'ipmi', provision_state: 'manageable', power_state: 'power off' });
      const redfishNode = await step(
        'docs/examples/ironic/redfish-enroll.sh against https://<cluster IP>',
        async () => {
          await ironic.runExample('redfish-enroll.sh', { ...creds, NODE: 'node1-redfish', REDFISH: clusterIp });
          return ironic.node('node1-redfish');
        },
      );
      expect(redfishNode).toMatchObject({
        driver: 'redfish',
        boot_interface: 'redfish-virtual-media',
        provision_state: 'manageable',
        power_state: 'power off',
      });
      const runsBefore = guestRuns(await guestLog());
      const on = await step('docs/examples/ironic/power-on.sh through the redfish node', () =>
        ironic.runExample('power-on.sh', { NODE: 'node1-redfish' }),
      );
      expect(on.stdout.trim().split('\n').pop()).toBe('power on');
      expect(ironic.logs()).toContain(clusterIp);
      // The guest runs its script once more and powers itself off.
      await step('the VM ran again and powered off; kubectl get vbmc shows Off', () =>
        guestRanAgainAndPoweredOff(runsBefore),
      );
    } catch (error) {
      progress(`ironic log tail:\n${ironic.logs().split('\n').slice(-30).join('\n')}`);
      throw error;
    } finally {
      await ironic.stop();
    }
  });

  it("the operator's and the agent's /metrics parse as Prometheus text and count what happened", async () => {
    const operatorIp = await jsonpath(
      ['-n', OPERATOR_NAMESPACE, 'get', 'service', `${RELEASE}-metrics`],
      '{.spec.clusterIP}',
    );
    const operatorUrl = `http://${operatorIp}:8080/metrics`;
    const anonymous = await client('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', operatorUrl]);
    expect(anonymous.stdout).toBe('401');
    const printed = await step(
      "docs/operator.md: a ServiceAccount bound to the chart's metrics-reader role scrapes",
      () => runDocBlock(docBlock(join(repoRoot, 'docs/operator.md'), 'operator-metrics')),
    );
    expect(printed).toMatch(/^serviceaccount\/metrics-scraper created$/m);
    expect(printed.trim().split('\n').at(-1)).toBe('qemu_bmc_operator_is_leader 1');
    const operatorText = await step('scrape the operator through its metrics Service with that token', async () => {
      const token = (await kubectl(['-n', OPERATOR_NAMESPACE, 'create', 'token', 'metrics-scraper'])).trim();
      const r = await client('curl', ['-sf', '-H', `Authorization: Bearer ${token}`, operatorUrl]);
      expect(r.code).toBe(0);
      return r.stdout;
    });
    const operator = parsePrometheusText(operatorText);
    expect(sampleValue(operator, 'qemu_bmc_operator_is_leader')).toBe(1);
    expect(sampleValue(operator, 'qemu_bmc_operator_virtualbmcs', { power_state: 'Off' })).toBe(1);
    expect(sampleValue(operator, 'qemu_bmc_operator_agent_links', { state: 'connected' })).toBe(1);
    expect(operator.get('qemu_bmc_operator_reconcile_total')?.type).toBe('counter');

    const agentText = await step('scrape the agent through the BMC Service (HTTPS, BMC credentials)', async () => {
      const anonymous = await client('curl', [
        '-sk',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        `https://${clusterIp}/metrics`,
      ]);
      expect(anonymous.stdout).toBe('401');
      const r = await client('curl', ['-skf', '-u', `${username}:${password}`, `https://${clusterIp}/metrics`]);
      expect(r.code).toBe(0);
      return r.stdout;
    });
    const agent = parsePrometheusText(agentText);
    expect(sampleValue(agent, 'bmc_power_state', { state: 'Off' })).toBe(1);
    expect(sampleValue(agent, 'bmc_power_actions_total', { type: 'On' }) ?? 0).toBeGreaterThanOrEqual(1);
    expect(sampleValue(agent, 'ipmi_lan_sessions_opened_total') ?? 0).toBeGreaterThanOrEqual(4);
  });

  it('kubectl delete of the VirtualBMC removes the pod (and QEMU), the Service, the Secret and the claims', async () => {
    // What happened, as `kubectl describe vbmc` tells it (the operator's Events on the VirtualBMC).
    const described = await step('kubectl describe vbmc: the Events', () =>
      kubectl(['-n', NAMESPACE, 'describe', 'vbmc', name]),
    );
    const events = described.slice(described.indexOf('Events:'));
    progress(`kubectl describe vbmc ${name} (Events):\n${events}`);
    for (const reason of ['SecretCreated', 'ServiceCreated', 'PodCreated', 'Ready', 'PowerOn', 'PowerOff'])
      expect(events).toMatch(new RegExp(`\\b${reason}\\b`));
    expect(events).not.toContain(password);
    const podUid = await jsonpath(['-n', NAMESPACE, 'get', 'pod', `${name}-bmc`], '{.metadata.uid}');
    expect(podProcesses(podUid).length).toBeGreaterThan(0); // the agent (node) runs in the pod's cgroup
    await step('kubectl delete vbmc', () =>
      kubectl(['-n', NAMESPACE, 'delete', 'vbmc', name, '--wait=true', '--timeout=180s']),
    );
    await step('everything the VirtualBMC owned is gone', () =>
      eventually(
        'pod, service, secret and PVCs to go',
        async () => {
          const left = await kubectl([
            '-n',
            NAMESPACE,
            'get',
            'pods,services,secrets,persistentvolumeclaims',
            '-l',
            `qemu-bmc.dev/virtualbmc=${name}`,
            '-o',
            'name',
          ]);
          return left.trim() === '' ? true : undefined;
        },
        180_000,
        2_000,
      ),
    );
    // No process of the pod (the agent, QEMU when on) is left on the host.
    expect(podProcesses(podUid)).toEqual([]);
    const unreachable = await client(
      'ipmitool',
      [
        '-I',
        'lanplus',
        '-H',
        clusterIp,
        '-U',
        username,
        '-P',
        password,
        '-R',
        '1',
        '-N',
        '2',
        'chassis',
        'power',
        'status',
      ],
      20_000,
    );
    expect(unreachable.code).not.toBe(0);
    await step('helm uninstall', () =>
      cluster.helm(['uninstall', RELEASE, '--namespace', OPERATOR_NAMESPACE, '--wait']),
    );
  });
});
