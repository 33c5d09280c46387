import { describe, expect, it } from 'vitest';
import type { Pod, Service } from '../../../operator/src/kube/objects.ts';
import { computeStatus, statusUnchanged } from '../../../operator/src/reconcile/status.ts';
import { vbmc } from './fixtures.ts';

const service: Service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'node1-bmc', namespace: 'lab' },
  spec: { type: 'ClusterIP', clusterIP: '10.96.0.42' },
};

function pod(phase: string, extra: Partial<NonNullable<Pod['status']>> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'node1-bmc', namespace: 'lab' },
    spec: { nodeName: 'kwok-node-0' },
    status: { phase, conditions: [{ type: 'PodScheduled', status: 'True' }], ...extra },
  };
}

const now = '2026-11-26T08:00:00Z';
const cond = (s: ReturnType<typeof computeStatus>, type: string) => s.conditions?.find((c) => c.type === type);

describe('status computation', () => {
  it('Ready with endpoints and power state once the pod runs and the agent answers', () => {
    const s = computeStatus({
      vbmc: vbmc(),
      service,
      pod: pod('Running'),
      agent: { reachable: true, powerState: 'On', bootOverride: { target: 'Pxe', enabled: 'Once', mode: 'Legacy' } },
      now,
    });
    expect(s).toMatchObject({
      observedGeneration: 1,
      powerState: 'On',
      serviceIP: '10.96.0.42',
      podName: 'node1-bmc',
      credentialsSecret: 'node1-bmc',
      endpoints: {
        redfish: 'https://10.96.0.42/redfish/v1',
        ipmi: '10.96.0.42:623',
        console: 'https://10.96.0.42/novnc/',
      },
      bootOverride: { target: 'Pxe', enabled: 'Once', mode: 'Legacy' },
    });
    expect(cond(s, 'Ready')).toMatchObject({ status: 'True', reason: 'Ready', lastTransitionTime: now });
    expect(cond(s, 'VMRunning')).toMatchObject({ status: 'True', reason: 'PoweredOn' });
    expect(cond(s, 'Degraded')).toMatchObject({ status: 'False' });
  });

  it('explains why not Ready: no pod, pending pod, unreachable agent', () => {
    expect(cond(computeStatus({ vbmc: vbmc(), service, now }), 'Ready')).toMatchObject({
      status: 'False',
      reason: 'PodMissing',
    });
    expect(cond(computeStatus({ vbmc: vbmc(), now }), 'Ready')).toMatchObject({ reason: 'ServicePending' });
    const pending = computeStatus({ vbmc: vbmc(), service, pod: pod('Pending', { conditions: [] }), now });
    expect(cond(pending, 'Ready')).toMatchObject({ reason: 'PodNotRunning' });
    const unreachable = computeStatus({
      vbmc: vbmc(),
      service,
      pod: pod('Running'),
      agent: { reachable: false, error: 'connect ECONNREFUSED' },
      now,
    });
    expect(cond(unreachable, 'Ready')).toMatchObject({ status: 'False', reason: 'AgentUnreachable' });
    expect(cond(unreachable, 'AgentReachable')).toMatchObject({ status: 'False', message: 'connect ECONNREFUSED' });
    expect(unreachable.powerState).toBe('Unknown');
    expect(cond(unreachable, 'VMRunning')).toMatchObject({ status: 'Unknown' });
  });

  it('Degraded names the reason: image pull, crash loop, failed pod, reconcile error', () => {
    const waiting = (reason: string) =>
      pod('Pending', { containerStatuses: [{ name: 'agent', state: { waiting: { reason, message: 'boom' } } }] });
    expect(
      cond(computeStatus({ vbmc: vbmc(), service, pod: waiting('ImagePullBackOff'), now }), 'Degraded'),
    ).toMatchObject({
      status: 'True',
      reason: 'ImagePullBackOff',
      message: 'agent: boom',
    });
    expect(
      cond(computeStatus({ vbmc: vbmc(), service, pod: waiting('CrashLoopBackOff'), now }), 'Degraded')?.reason,
    ).toBe('CrashLoopBackOff');
    expect(cond(computeStatus({ vbmc: vbmc(), service, pod: pod('Failed'), now }), 'Degraded')?.reason).toBe(
      'PodFailed',
    );
    expect(
      cond(computeStatus({ vbmc: vbmc(), service, reconcileError: 'secret missing', now }), 'Degraded'),
    ).toMatchObject({ status: 'True', reason: 'ReconcileFailed', message: 'secret missing' });
  });

  it('an unchanged world computes an identical status (no write), a power change does not', () => {
    const inputs = { vbmc: vbmc(), service, pod: pod('Running'), agent: { reachable: true, powerState: 'Off' } };
    const first = computeStatus({ ...inputs, now });
    const stored = { ...vbmc(), status: first };
    const second = computeStatus({ ...inputs, vbmc: stored, now: '2026-11-26T09:00:00Z' });
    expect(statusUnchanged(first, second)).toBe(true);
    const on = computeStatus({
      ...inputs,
      vbmc: stored,
      agent: { reachable: true, powerState: 'On' },
      now: '2026-11-26T09:00:00Z',
    });
    expect(statusUnchanged(first, on)).toBe(false);
    expect(cond(on, 'VMRunning')?.lastTransitionTime).toBe('2026-11-26T09:00:00Z');
    expect(cond(on, 'Ready')?.lastTransitionTime).toBe(now);
  });

  it('uses a LoadBalancer ingress IP for endpoints and brackets IPv6', () => {
    const lb: Service = {
      ...service,
      spec: { type: 'LoadBalancer', clusterIP: '10.96.0.42' },
      status: { loadBalancer: { ingress: [{ ip: '192.0.2.7' }] } },
    };
    expect(computeStatus({ vbmc: vbmc(), service: lb, now }).endpoints?.ipmi).toBe('192.0.2.7:623');
    const v6: Service = { ...service, spec: { clusterIP: 'fd00::10' } };
    expect(computeStatus({ vbmc: vbmc({ console: { enabled: false } }), service: v6, now }).endpoints).toEqual({
      redfish: 'https://[fd00::10]/redfish/v1',
      ipmi: '[fd00::10]:623',
    });
  });

  it('a LoadBalancer without its address yet: not Ready, reason LoadBalancerPending', () => {
    const lb: Service = { ...service, spec: { type: 'LoadBalancer', clusterIP: '10.96.0.42' } };
    expect(cond(computeStatus({ vbmc: vbmc(), service: lb, now }), 'Ready')).toMatchObject({
      status: 'False',
      reason: 'LoadBalancerPending',
    });
  });
});
