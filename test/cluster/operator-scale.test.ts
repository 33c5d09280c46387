// 200 VirtualBMCs reach their steady state; then, in a 60 s idle window that includes resyncs and watch
// reconnects, the operator sends no write request for VirtualBMCs or their children (counted from the apiserver's
// own audit log, by the operator's user agent). Lease renewals are its only writes, and are counted separately.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USER_AGENT } from '../../operator/src/kube/client.ts';
import {
  auditArgs,
  BED_APISERVER_ARGS,
  kwokNode,
  metricValue,
  type OperatorProcess,
  readAudit,
  schedulePods,
  startOperator,
  WRITE_VERBS,
  waitFor,
} from '../../operator/testing/cluster-harness.ts';
import { type Cluster, startCluster } from '../support/cluster.ts';

const NS = 'default';
const COUNT = 200;
const IDLE_WINDOW_MS = 60_000;

interface VbmcList {
  items: {
    metadata: { name: string; generation: number };
    status?: { observedGeneration?: number; podName?: string; conditions?: { type: string; status: string }[] };
  }[];
}

describe('operator at scale', () => {
  let cluster: Cluster;
  let dir: string;
  let operator: OperatorProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qemu-bmc-operator-scale-'));
    cluster = await startCluster({ kwok: true, apiserverArgs: [...BED_APISERVER_ARGS, ...auditArgs(dir)] });
    await cluster.kubectl(['apply', '-f', 'crds/virtualbmc.yaml']);
    await cluster.kubectl(['wait', '--for=condition=Established', 'crd/virtualbmcs.qemu-bmc.dev', '--timeout=60s']);
    await cluster.kubectl(['apply', '-f', '-'], kwokNode);
    operator = await startOperator(cluster, dir, 'op-scale', { RESYNC_SECONDS: '20', LOG_LEVEL: 'info' });
  });

  afterAll(async () => {
    await operator?.stop();
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`${COUNT} VirtualBMCs reach steady state, then a 60 s idle window has zero operator writes`, {
    timeout: 900_000,
  }, async () => {
    const docs = Array.from(
      { length: COUNT },
      (_, i) =>
        `apiVersion: qemu-bmc.dev/v1alpha1\nkind: VirtualBMC\nmetadata: {name: s${i}}\nspec:\n  vm: {cpus: 1, memory: 512Mi, disks: [{name: root, size: 1Gi}]}\n`,
    ).join('---\n');
    await cluster.kubectl(['apply', '-n', NS, '-f', '-'], docs);

    // Steady state: every pod scheduled and Running, every status written for the current generation, and the
    // agent link settled (no agent answers at these Service IPs: AgentReachable=False).
    await waitFor(
      'steady state',
      async () => {
        await schedulePods(cluster, NS);
        const { stdout } = await cluster.kubectl(['get', 'vbmc', '-n', NS, '-o', 'json']);
        const list = JSON.parse(stdout) as VbmcList;
        const settled = list.items.filter(
          (v) =>
            v.status?.observedGeneration === v.metadata.generation &&
            v.status.conditions?.find((c) => c.type === 'PodScheduled')?.status === 'True' &&
            v.status.conditions?.find((c) => c.type === 'AgentReachable')?.status === 'False',
        );
        return (list.items.length === COUNT && settled.length === COUNT) || undefined;
      },
      300,
      2_000,
    );

    const reconcilesBefore =
      metricValue(await operator.metrics(), 'qemu_bmc_operator_reconcile_total{result="success"}') ?? 0;
    const start = readAudit(dir).length;
    await new Promise((r) => setTimeout(r, IDLE_WINDOW_MS));
    const window = readAudit(dir).slice(start);
    const byOperator = window.filter((e) => e.userAgent?.startsWith(USER_AGENT) && WRITE_VERBS.has(e.verb));
    const leaseWrites = byOperator.filter((e) => e.objectRef?.resource === 'leases');
    const otherWrites = byOperator.filter((e) => e.objectRef?.resource !== 'leases');
    expect(
      otherWrites.map(
        (e) => `${e.verb} ${e.objectRef?.resource}/${e.objectRef?.subresource ?? ''} ${e.objectRef?.name}`,
      ),
    ).toEqual([]);
    // The Lease is renewed every LEASE_RENEW_SECONDS (2 s in tests): that is all the operator writes.
    expect(leaseWrites.length).toBeGreaterThan(0);
    expect(leaseWrites.length).toBeLessThanOrEqual(IDLE_WINDOW_MS / 2_000 + 2);
    // The operator was busy, not stuck: resyncs (every 20 s here) reconciled every object again, writing nothing.
    const metrics = await operator.metrics();
    const reconciles =
      (metricValue(metrics, 'qemu_bmc_operator_reconcile_total{result="success"}') ?? 0) - reconcilesBefore;
    expect(reconciles).toBeGreaterThanOrEqual(2 * COUNT);
    expect(metrics).toMatch(new RegExp(`^qemu_bmc_operator_virtualbmcs\\{power_state="Unknown"\\} ${COUNT}$`, 'm'));
  });
});
