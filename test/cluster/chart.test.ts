// The Helm chart against the real apiserver: lint is clean, the rendered manifests pass a server-side dry run,
// and `helm install` establishes the CRD and creates the operator's Deployment, RBAC and Service.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
    expect(await can('delete', 'nodes')).toMatch(/no/);
    expect(await can('create', 'clusterroles')).toMatch(/no/);
  });

  it('prints NOTES that tell how to create a first VirtualBMC', async () => {
    const { stdout } = await cluster.helm(['get', 'notes', 'qbmc', '--namespace', 'qemu-bmc-system']);
    expect(stdout).toMatch(/kind: VirtualBMC/);
    expect(stdout).toMatch(/kubectl get vbmc/);
  });
});
