// What the informer caches keep of each kind (operator/src/controller/cached.ts): exactly what the reconciler and
// the status read, from objects shaped as the apiserver sends them (list items come without apiVersion/kind).
import { describe, expect, it } from 'vitest';
import { ANNOTATION_APPLIED_HASH, ANNOTATION_POD_HASH, LABEL_INSTANCE } from '../../../operator/src/api/names.ts';
import {
  keepPersistentVolumeClaim,
  keepPod,
  keepSecret,
  keepService,
  keepVirtualBMC,
} from '../../../operator/src/controller/cached.ts';
import type { KubeObject } from '../../../operator/src/kube/objects.ts';
import { computeStatus } from '../../../operator/src/reconcile/status.ts';

const managedFields = [{ manager: 'qemu-bmc-operator', operation: 'Apply', fieldsV1: { 'f:spec': {} } }];
const meta = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  namespace: 'lab',
  uid: `uid-${name}`,
  resourceVersion: '42',
  generation: 1,
  creationTimestamp: '2026-11-26T10:00:00Z',
  labels: { [LABEL_INSTANCE]: 'b1', 'app.kubernetes.io/managed-by': 'qemu-bmc-operator' },
  annotations: { [ANNOTATION_APPLIED_HASH]: 'h1', 'other.example/note': 'x'.repeat(1000) },
  managedFields,
  ...extra,
});
const asObject = (o: unknown) => o as KubeObject;

describe('cached objects', () => {
  it('pods keep identity, owner label, our annotations, node, phase, conditions and waiting reasons only', () => {
    const raw = asObject({
      metadata: meta('b1-bmc', {
        annotations: { [ANNOTATION_POD_HASH]: 'p1', 'kubectl.kubernetes.io/restartedAt': 'now' },
        deletionTimestamp: '2026-11-26T11:00:00Z',
        ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'b1', uid: 'u' }],
      }),
      spec: { nodeName: 'kwok-node', containers: [{ name: 'agent', image: 'i', env: [{ name: 'A', value: 'B' }] }] },
      status: {
        phase: 'Pending',
        podIP: '10.0.0.5',
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-11-26T10:00:01Z', lastProbeTime: null },
        ],
        containerStatuses: [
          {
            name: 'agent',
            ready: false,
            restartCount: 3,
            image: 'i',
            imageID: 'sha',
            state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off' } },
            lastState: { terminated: { exitCode: 1 } },
          },
        ],
      },
    });
    expect(keepPod(raw)).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'b1-bmc',
        namespace: 'lab',
        uid: 'uid-b1-bmc',
        resourceVersion: '42',
        deletionTimestamp: '2026-11-26T11:00:00Z',
        labels: { [LABEL_INSTANCE]: 'b1' },
        annotations: { [ANNOTATION_POD_HASH]: 'p1' },
      },
      spec: { nodeName: 'kwok-node' },
      status: {
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'True' }],
        containerStatuses: [{ name: 'agent', state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off' } } }],
      },
    });
  });

  it('services keep type and addresses; PVCs metadata and spec; secrets their data and owners', () => {
    const service = keepService(
      asObject({
        metadata: meta('b1-bmc'),
        spec: { type: 'LoadBalancer', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ port: 443 }] },
        status: { loadBalancer: { ingress: [{ ip: '192.0.2.1', ipMode: 'VIP', ports: [] }] } },
      }),
    );
    expect(service).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'b1-bmc',
        namespace: 'lab',
        uid: 'uid-b1-bmc',
        resourceVersion: '42',
        labels: { [LABEL_INSTANCE]: 'b1' },
        annotations: { [ANNOTATION_APPLIED_HASH]: 'h1' },
      },
      spec: { type: 'LoadBalancer', clusterIP: '10.96.0.10' },
      status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } },
    });
    const spec = { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } };
    const pvc = keepPersistentVolumeClaim(asObject({ metadata: meta('b1-root'), spec, status: { phase: 'Bound' } }));
    expect(pvc.kind).toBe('PersistentVolumeClaim');
    expect(pvc.spec).toEqual(spec);
    expect(pvc).not.toHaveProperty('status');
    const owners = [{ apiVersion: 'qemu-bmc.dev/v1alpha1', kind: 'VirtualBMC', name: 'b1', uid: 'u1' }];
    const secret = keepSecret(
      asObject({
        metadata: meta('b1-bmc', { ownerReferences: owners }),
        type: 'Opaque',
        data: { 'tls.crt': 'Y2VydA==' },
      }),
    );
    expect(secret.apiVersion).toBe('v1');
    expect(secret.metadata.ownerReferences).toEqual(owners);
    expect(secret.data).toEqual({ 'tls.crt': 'Y2VydA==' });
    expect(secret.metadata).not.toHaveProperty('managedFields');
  });

  it('VirtualBMCs stay whole but for managedFields and kubectl last-applied-configuration', () => {
    const raw = asObject({
      apiVersion: 'qemu-bmc.dev/v1alpha1',
      kind: 'VirtualBMC',
      metadata: meta('b1', {
        finalizers: ['qemu-bmc.dev/cleanup'],
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', keep: 'me' },
      }),
      spec: { vm: { cpus: 1, memory: '512Mi', disks: [] } },
      status: { observedGeneration: 1, powerState: 'Off', conditions: [] },
    });
    const kept = keepVirtualBMC(raw);
    const { managedFields: _, ...rest } = (raw as unknown as { metadata: Record<string, unknown> }).metadata;
    expect(kept.metadata).toEqual({ ...rest, annotations: { keep: 'me' } });
    expect(kept.spec).toEqual({ vm: { cpus: 1, memory: '512Mi', disks: [] } });
    expect(kept.status?.powerState).toBe('Off');
  });

  it('computes the same status from kept objects as from whole ones', () => {
    const vbmc = keepVirtualBMC(
      asObject({
        apiVersion: 'qemu-bmc.dev/v1alpha1',
        kind: 'VirtualBMC',
        metadata: meta('b1'),
        spec: { vm: { cpus: 1, memory: '512Mi', disks: [{ name: 'root', size: '1Gi' }] } },
      }),
    );
    const pod = {
      metadata: meta('b1-bmc'),
      spec: { nodeName: 'n', containers: [] },
      status: {
        phase: 'Running',
        conditions: [{ type: 'PodScheduled', status: 'True', reason: 'Bound' }],
        containerStatuses: [{ name: 'agent', state: { waiting: { reason: 'ImagePullBackOff', message: 'nope' } } }],
      },
    };
    const service = { metadata: meta('b1-bmc'), spec: { type: 'ClusterIP', clusterIP: '10.96.0.9', ports: [] } };
    const now = '2026-11-26T10:00:00Z';
    const whole = computeStatus({ vbmc, pod: pod as never, service: service as never, now });
    const kept = computeStatus({ vbmc, pod: keepPod(asObject(pod)), service: keepService(asObject(service)), now });
    expect(kept).toEqual(whole);
    expect(kept.conditions?.find((c) => c.type === 'Degraded')?.reason).toBe('ImagePullBackOff');
  });
});
