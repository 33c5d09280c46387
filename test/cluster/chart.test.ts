// The Helm chart against the real apiserver: lint is clean, the rendered manifests pass a server-side dry run,
// and `helm install` establishes the CRD and creates the operator's Deployment, RBAC and Service.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  BED_APISERVER_ARGS,
  getJson,
  kwokNode,
  type OperatorProcess,
  type PodJson,
  startOperator,
  waitFor,
} from '../../operator/testing/cluster-harness.ts';
import { type Cluster, startCluster } from '../support/cluster.ts';

const chart = 'charts/qemu-bmc';

describe('Helm chart', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster();
    await cluster.kubectl(['create', 'namespace', 'qemu-bmc-system']);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('passes helm lint with no warnings', async () => {
    const { stdout } = await cluster.helm(['lint', '--strict', chart]);
    expect(stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it('rejects values that break the schema, naming the field', async () => {
    await expect(cluster.helm(['template', 'x', chart, '--set', 'logLevel=loud'])).rejects.toThrow(/logLevel/);
    await expect(cluster.helm(['template', 'x', chart, '--set', 'replicaCount=0'])).rejects.toThrow(/replicaCount/);
    // Agents' /metrics need credentials, so an agent PodMonitor without them is refused rather than scraping 401s.
    await expect(cluster.helm(['template', 'x', chart, '--set', 'metrics.podMonitor.enabled=true'])).rejects.toThrow(
      /metrics\.podMonitor\.credentialsSecret is required/,
    );
    const { stdout } = await cluster.helm([
      'template',
      'x',
      chart,
      '--set',
      'metrics.podMonitor.enabled=true',
      '--set',
      'metrics.podMonitor.credentialsSecret=bmc-metrics',
    ]);
    expect(stdout).toMatch(/basicAuth:\n\s+username: \{ name: "bmc-metrics", key: username \}/);
  });

  it('renders manifests the apiserver accepts in a server-side dry run (cluster-wide and namespaced)', async () => {
    // The dry run of namespaced RBAC needs the CRD only for the CR-level rules; install the CRD first.
    await cluster.kubectl(['apply', '--server-side', '-f', `${chart}/crds/virtualbmc.yaml`]);
    for (const extra of [[], ['--set', 'watchNamespace=qemu-bmc-system', '--set', 'metrics.service.enabled=false']]) {
      const { stdout: manifests } = await cluster.helm([
        'template',
        'qbmc',
        chart,
        '--namespace',
        'qemu-bmc-system',
        ...extra,
      ]);
      const { stdout } = await cluster.kubectl(
        ['apply', '--dry-run=server', '--server-side', '-n', 'qemu-bmc-system', '-f', '-'],
        manifests,
      );
      expect(stdout).toMatch(/deployment\.apps\/qbmc-qemu-bmc serverside-applied \(server dry run\)/);
    }
  });

  it('installs: CRD established, operator Deployment with probes and a read-only root, least-privilege RBAC', async () => {
    await cluster.helm(['install', 'qbmc', chart, '--namespace', 'qemu-bmc-system', '--wait=false']);
    await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/virtualbmcs.qemu-bmc.dev']);
    const { stdout } = await cluster.kubectl(['get', 'deploy', 'qbmc-qemu-bmc', '-n', 'qemu-bmc-system', '-o', 'json']);
    const deploy = JSON.parse(stdout) as {
      spec: { template: { spec: { containers: Array<Record<string, unknown>> } } };
    };
    const container = deploy.spec.template.spec.containers[0] as {
      livenessProbe?: unknown;
      readinessProbe?: unknown;
      securityContext?: { readOnlyRootFilesystem?: boolean };
    };
    expect(container.livenessProbe).toBeTruthy();
    expect(container.readinessProbe).toBeTruthy();
    expect(container.securityContext?.readOnlyRootFilesystem).toBe(true);
    // The operator's service account may manage VirtualBMCs and pods, but not e.g. nodes or cluster roles.
    const can = async (verb: string, resource: string) =>
      (
        await cluster
          .kubectl([
            'auth',
            'can-i',
            verb,
            resource,
            '--as=system:serviceaccount:qemu-bmc-system:qbmc-qemu-bmc',
            '-n',
            'default',
          ])
          .catch((e: Error) => ({ stdout: e.message }))
      ).stdout.trim();
    expect(await can('patch', 'virtualbmcs.qemu-bmc.dev/status')).toMatch(/^yes/);
    expect(await can('create', 'pods')).toMatch(/^yes/);
    expect(await can('create', 'events.events.k8s.io')).toMatch(/^yes/);
    expect(await can('patch', 'events.events.k8s.io')).toMatch(/^yes/);
    expect(await can('delete', 'nodes')).toMatch(/no/);
    expect(await can('create', 'clusterroles')).toMatch(/no/);
  });

  it('prints NOTES that tell how to create a first VirtualBMC', async () => {
    const { stdout } = await cluster.helm(['get', 'notes', 'qbmc', '--namespace', 'qemu-bmc-system']);
    expect(stdout).toMatch(/kind: VirtualBMC/);
    expect(stdout).toMatch(/kubectl get vbmc/);
  });
});

// With the controller manager and scheduler running, the chart's Deployment really rolls out (kwok plays the kubelet),
// and an operator process holding only the chart's ServiceAccount token reconciles a VirtualBMC: the chart's RBAC
// is enough for the operator's work.
describe('Helm chart, installed on a cluster with controllers', () => {
  let cluster: Cluster;
  let dir: string;
  let operator: OperatorProcess | undefined;
  const ns = 'qemu-bmc-system';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qemu-bmc-chart-'));
    cluster = await startCluster({ kwok: true, controllers: true, apiserverArgs: BED_APISERVER_ARGS });
    await cluster.kubectl(['apply', '-f', '-'], kwokNode);
    await cluster.kubectl(['create', 'namespace', ns]);
  });
  afterAll(async () => {
    await operator?.stop();
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('rolls the operator Deployment out to Available', async () => {
    await cluster.helm(['install', 'qbmc', chart, '--namespace', ns, '--set', 'replicaCount=2']);
    const { stdout } = await cluster.kubectl([
      'rollout',
      'status',
      'deployment/qbmc-qemu-bmc',
      '-n',
      ns,
      '--timeout=180s',
    ]);
    expect(stdout).toMatch(/successfully rolled out/);
    const pods = await getJson<{ items: PodJson[] }>(cluster, [
      'get',
      'pods',
      '-n',
      ns,
      '-l',
      'app.kubernetes.io/component=operator',
    ]);
    expect(pods.items).toHaveLength(2);
    for (const pod of pods.items) expect(pod.status?.phase).toBe('Running');
  });

  it('lets an operator with only the chart ServiceAccount reconcile a VirtualBMC applied afterwards', async () => {
    const { stdout: token } = await cluster.kubectl(['create', 'token', 'qbmc-qemu-bmc', '-n', ns]);
    const { stdout: server } = await cluster.kubectl([
      'config',
      'view',
      '-o',
      'jsonpath={.clusters[0].cluster.server}',
    ]);
    const kubeconfig = join(dir, 'sa-kubeconfig');
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'test',
            cluster: {
              server: server.trim(),
              'certificate-authority-data': Buffer.from(cluster.caCert).toString('base64'),
            },
          },
        ],
        users: [{ name: 'operator', user: { token: token.trim() } }],
        contexts: [{ name: 'test', context: { cluster: 'test', user: 'operator', namespace: ns } }],
        'current-context': 'test',
      }),
      { mode: 0o600 },
    );
    operator = await startOperator(cluster, dir, 'chart-sa', { KUBECONFIG: kubeconfig, LEASE_NAMESPACE: ns });
    await cluster.kubectl(['apply', '-n', 'default', '-f', 'docs/examples/virtualbmc-minimal.yaml']);
    const secret = await waitFor(
      'the generated credentials Secret',
      async () => {
        const s = await getJson<{ data?: Record<string, string> }>(cluster, [
          'get',
          'secret',
          'node1-bmc',
          '-n',
          'default',
        ]);
        return s.data?.['password'] ? s : undefined;
      },
      480,
    );
    expect(Buffer.from(secret.data?.['password'] ?? '', 'base64').toString()).toHaveLength(20);
    // The pod stays Pending here (its state PVC has no provisioner on this bed): reconciled means created and owned.
    const pod = await waitFor(
      'the agent pod',
      async () =>
        await getJson<PodJson & { metadata: { ownerReferences?: { kind: string }[] } }>(cluster, [
          'get',
          'pod',
          'node1-bmc',
          '-n',
          'default',
        ]),
      480,
    );
    expect(pod.metadata.ownerReferences?.map((o) => o.kind)).toEqual(['VirtualBMC']);
    await cluster.kubectl(['get', 'service', 'node1-bmc', '-n', 'default']);
    const { stdout } = await cluster.kubectl(['get', 'vbmc', 'node1', '-n', 'default']);
    expect(stdout).toMatch(/^NAME\s+POWER\s+READY\s+IPMI\s+REDFISH\s+AGE/m);
  });
});
