// The operator runs with exactly the rights in operator/deploy/rbac.yaml (a ServiceAccount token, not the
// test's admin certificate): it reconciles, writes status, elects itself leader and cleans up.
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
  schedulePods,
  startOperator,
  waitFor,
} from '../../operator/testing/cluster-harness.ts';
import { type Cluster, startCluster } from '../support/cluster.ts';

const NS = 'lab';
const SYSTEM_NS = 'qemu-bmc-system';

describe('operator with least-privilege RBAC', () => {
  let cluster: Cluster;
  let dir: string;
  let operator: OperatorProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qemu-bmc-operator-rbac-'));
    cluster = await startCluster({ kwok: true, apiserverArgs: BED_APISERVER_ARGS });
    await cluster.kubectl(['apply', '-f', 'crds/virtualbmc.yaml']);
    await cluster.kubectl(['wait', '--for=condition=Established', 'crd/virtualbmcs.qemu-bmc.dev', '--timeout=60s']);
    await cluster.kubectl(['apply', '-f', '-'], kwokNode);
    await cluster.kubectl(['create', 'namespace', SYSTEM_NS]);
    await cluster.kubectl(['create', 'namespace', NS]);
    await cluster.kubectl(['apply', '-f', 'operator/deploy/rbac.yaml']);
    const { stdout: token } = await cluster.kubectl([
      'create',
      'token',
      'qemu-bmc-operator',
      '-n',
      SYSTEM_NS,
      '--duration=1h',
    ]);
    const kubeconfig = join(dir, 'operator.kubeconfig');
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'test',
            cluster: {
              server: cluster.server,
              'certificate-authority-data': Buffer.from(cluster.caCert).toString('base64'),
            },
          },
        ],
        users: [{ name: 'operator', user: { token: token.trim() } }],
        contexts: [{ name: 'operator', context: { cluster: 'test', user: 'operator' } }],
        'current-context': 'operator',
      }),
      { mode: 0o600 },
    );
    operator = await startOperator({ ...cluster, kubeconfig }, dir, 'op-rbac', { LEASE_NAMESPACE: SYSTEM_NS });
  });

  afterAll(async () => {
    await operator?.stop();
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the service account cannot do more than the role says', async () => {
    const sa = `--as=system:serviceaccount:${SYSTEM_NS}:qemu-bmc-operator`;
    const can = async (...args: string[]) =>
      (await cluster.kubectl(['auth', 'can-i', sa, ...args]).catch(() => ({ stdout: 'no' }))).stdout.trim();
    expect(await can('patch', 'virtualbmcs.qemu-bmc.dev', '-n', NS)).toBe('yes');
    expect(await can('delete', 'virtualbmcs.qemu-bmc.dev', '-n', NS)).toBe('no');
    expect(await can('update', 'leases.coordination.k8s.io', '-n', SYSTEM_NS)).toBe('yes');
    expect(await can('update', 'leases.coordination.k8s.io', '-n', NS)).toBe('no');
    expect(await can('create', 'deployments.apps', '-n', NS)).toBe('no');
    expect(await can('create', 'pods', '--subresource=exec', '-n', NS)).toBe('no');
    expect(await can('create', 'pods', '-n', NS)).toBe('yes');
    expect(await can('create', 'events.events.k8s.io', '-n', NS)).toBe('yes');
    expect(await can('patch', 'events.events.k8s.io', '-n', NS)).toBe('yes');
    expect(await can('delete', 'events.events.k8s.io', '-n', NS)).toBe('no');
  });

  it('reconciles a VirtualBMC, writes its status and cleans up, with only those rights', async () => {
    await cluster.kubectl(['apply', '-n', NS, '-f', 'docs/examples/virtualbmc-minimal.yaml']);
    await waitFor('pod node1-bmc', () => getJson<PodJson>(cluster, ['get', 'pod', 'node1-bmc', '-n', NS]), 120);
    await waitFor('pod bound', async () => (await schedulePods(cluster, NS)) > 0 || undefined, 60);
    const v = await waitFor(
      'status PodScheduled',
      async () => {
        const v = await getJson<{ status?: { conditions?: { type: string; status: string }[]; serviceIP?: string } }>(
          cluster,
          ['get', 'vbmc', 'node1', '-n', NS],
        );
        return v.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status === 'True' ? v : undefined;
      },
      120,
    );
    expect(v.status?.serviceIP).toMatch(/^10\.96\./);
    const lease = await getJson<{ spec: { holderIdentity: string } }>(cluster, [
      'get',
      'lease',
      'qemu-bmc-operator',
      '-n',
      SYSTEM_NS,
    ]);
    expect(lease.spec.holderIdentity).toBe('op-rbac');
    // Its Events were written with those rights too.
    const events = await waitFor(
      'Events on node1',
      async () => {
        const list = await getJson<{ items: { reason: string; reportingInstance: string }[] }>(cluster, [
          'get',
          'events.events.k8s.io',
          '-n',
          NS,
          '--field-selector',
          'regarding.name=node1',
        ]);
        return list.items.some((e) => e.reason === 'PodCreated') ? list.items : undefined;
      },
      60,
    );
    expect(events.map((e) => e.reportingInstance)).toContain('op-rbac');
    await cluster.kubectl(['delete', 'vbmc', 'node1', '-n', NS, '--timeout=60s']);
    const { stdout } = await cluster.kubectl(['get', 'pods,services,secrets,pvc', '-n', NS, '-o', 'name']);
    expect(stdout.trim()).toBe('');
    expect(operator.log()).not.toMatch(/forbidden/i);
  });
});
