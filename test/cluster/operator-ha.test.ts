// Operator availability: two replicas elect exactly one leader on a Lease and the standby takes over when the
// leader dies; an operator killed in the middle of reconciling and restarted converges without duplicates.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BED_APISERVER_ARGS,
  envOf,
  getJson,
  kwokNode,
  metricValue,
  type OperatorProcess,
  type PodJson,
  startOperator,
  waitFor,
} from '../../operator/testing/cluster-harness.ts';
import { type Cluster, startCluster } from '../support/cluster.ts';

const NS = 'default';

function vbmcs(prefix: string, count: number): string {
  return Array.from(
    { length: count },
    (_, i) =>
      `apiVersion: qemu-bmc.dev/v1alpha1\nkind: VirtualBMC\nmetadata: {name: ${prefix}${i}}\nspec:\n  vm: {disks: [{name: root, size: 1Gi}]}\n`,
  ).join('---\n');
}

const leader = async (op: OperatorProcess) =>
  metricValue(await op.metrics().catch(() => ''), 'qemu_bmc_operator_is_leader');

async function count(cluster: Cluster, kind: string, selector: string): Promise<string[]> {
  const { stdout } = await cluster.kubectl(['get', kind, '-n', NS, '-l', selector, '-o', 'name']);
  return stdout.split('\n').filter(Boolean);
}

describe('operator availability', () => {
  let cluster: Cluster;
  let dir: string;
  const running: OperatorProcess[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qemu-bmc-operator-ha-'));
    cluster = await startCluster({ kwok: true, apiserverArgs: BED_APISERVER_ARGS });
    await cluster.kubectl(['apply', '-f', 'crds/virtualbmc.yaml']);
    await cluster.kubectl(['wait', '--for=condition=Established', 'crd/virtualbmcs.qemu-bmc.dev', '--timeout=60s']);
    await cluster.kubectl(['apply', '-f', '-'], kwokNode);
  });

  afterAll(async () => {
    for (const op of running) await op.kill();
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('with two replicas exactly one leads; when it dies the other takes over and reconciles', async () => {
    const a = await startOperator(cluster, dir, 'op-a');
    const b = await startOperator(cluster, dir, 'op-b');
    running.push(a, b);
    const first = await waitFor(
      'a leader',
      async () => {
        const [la, lb] = [await leader(a), await leader(b)];
        if (la === 1 && lb === 0) return a;
        if (la === 0 && lb === 1) return b;
        return undefined;
      },
      120,
    );
    const standby = first === a ? b : a;
    const lease = await getJson<{ spec: { holderIdentity: string } }>(cluster, [
      'get',
      'lease',
      'qemu-bmc-operator',
      '-n',
      'default',
    ]);
    expect(lease.spec.holderIdentity).toBe(first.identity);
    // Several renew periods later, still exactly one.
    await new Promise((r) => setTimeout(r, 5_000));
    expect([await leader(first), await leader(standby)]).toEqual([1, 0]);

    await cluster.kubectl(['apply', '-n', NS, '-f', '-'], vbmcs('ha', 1));
    await waitFor('pod ha0-bmc', () => getJson<PodJson>(cluster, ['get', 'pod', 'ha0-bmc', '-n', NS]), 120);

    await first.kill(); // a crash: the lease is not released, the standby waits for it to expire
    await waitFor('standby leads', async () => (await leader(standby)) === 1 || undefined, 120);
    const taken = await getJson<{ spec: { holderIdentity: string; leaseTransitions: number } }>(cluster, [
      'get',
      'lease',
      'qemu-bmc-operator',
      '-n',
      'default',
    ]);
    expect(taken.spec.holderIdentity).toBe(standby.identity);
    expect(taken.spec.leaseTransitions).toBeGreaterThanOrEqual(1);
    await cluster.kubectl(['apply', '-n', NS, '-f', '-'], vbmcs('after', 1));
    await waitFor('pod after0-bmc', () => getJson<PodJson>(cluster, ['get', 'pod', 'after0-bmc', '-n', NS]), 120);

    // A graceful stop releases the lease: a new replica leads without waiting for expiry.
    expect(await standby.stop()).toBe(0);
    const released = await getJson<{ spec: { holderIdentity?: string } }>(cluster, [
      'get',
      'lease',
      'qemu-bmc-operator',
      '-n',
      'default',
    ]);
    expect(released.spec.holderIdentity ?? '').toBe('');
  });

  it('an operator killed mid-reconcile and restarted creates no duplicates and keeps generated secrets', async () => {
    const total = 40;
    await cluster.kubectl(['apply', '-n', NS, '-f', '-'], vbmcs('crash', total));
    const op = await startOperator(cluster, dir, 'op-c');
    running.push(op);
    // Kill it once it has started creating children but (most likely) before it finished.
    await waitFor(
      'some secrets applied',
      async () => (op.log().match(/"secret applied"/g)?.length ?? 0) >= 3 || undefined,
      400,
      25,
    );
    await op.kill();
    const before = await count(cluster, 'pods', 'qemu-bmc.dev/virtualbmc');
    const secretsBefore = await getJson<{ items: { metadata: { name: string }; data?: Record<string, string> }[] }>(
      cluster,
      ['get', 'secrets', '-n', NS, '-l', 'app.kubernetes.io/managed-by=qemu-bmc-operator'],
    );

    const restarted = await startOperator(cluster, dir, 'op-d');
    running.push(restarted);
    await waitFor(
      'every crash pod',
      async () => {
        const pods = await count(cluster, 'pods', 'qemu-bmc.dev/virtualbmc');
        return pods.filter((p) => p.startsWith('pod/crash')).length === total || undefined;
      },
      240,
    );
    const crashOnly = (names: string[]) => names.filter((n) => n.includes('/crash'));
    expect(crashOnly(before).length).toBeLessThan(total); // it really was killed mid-way
    for (const [kind, perVbmc] of [
      ['pods', 1],
      ['services', 1],
      ['secrets', 1],
      ['pvc', 2],
    ] as const) {
      const names = crashOnly(await count(cluster, kind, 'app.kubernetes.io/managed-by=qemu-bmc-operator'));
      expect(names.length, kind).toBe(total * perVbmc);
      expect(new Set(names).size, kind).toBe(names.length);
    }
    // Secrets that existed before the crash kept their generated password and certificate.
    for (const s of secretsBefore.items.filter((i) => i.metadata.name.startsWith('crash') && i.data?.['password'])) {
      const now = await getJson<{ data: Record<string, string> }>(cluster, [
        'get',
        'secret',
        s.metadata.name,
        '-n',
        NS,
      ]);
      expect(now.data['password'], s.metadata.name).toBe(s.data?.['password']);
      expect(now.data['tls.crt'], s.metadata.name).toBe(s.data?.['tls.crt']);
    }
    // Every pod advertises its own Service IP.
    const pod = await getJson<PodJson>(cluster, ['get', 'pod', 'crash7-bmc', '-n', NS]);
    const svc = await getJson<{ spec: { clusterIP: string } }>(cluster, ['get', 'service', 'crash7-bmc', '-n', NS]);
    expect(envOf(pod)['BMC_ADDRESS']).toBe(svc.spec.clusterIP);
  });
});
