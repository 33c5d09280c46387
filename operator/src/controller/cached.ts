// What the informer caches keep of each kind: only the fields the reconciler and the status computation read
// (reconciler.ts, reconcile/status.ts, reconcile/service.ts, reconcile/secret.ts), in fresh small objects that
// share only those parts with the parsed event, so the rest of what the apiserver sent (managedFields, pod specs,
// container statuses, timestamps) is garbage at once. At
// 1,000 VirtualBMCs the apiserver's objects are ~17 MB of JSON and several times that as JS objects; what is kept
// is a few hundred bytes per object. Reading a new field of a cached child means adding it here
// (test/unit/operator/cached.test.ts pins what is kept).
import { ANNOTATION_APPLIED_HASH, ANNOTATION_POD_HASH, ANNOTATION_POD_PARTS, LABEL_INSTANCE } from '../api/names.ts';
import { API_VERSION, KIND, type VirtualBMC } from '../api/types.ts';
import type {
  ContainerStatus,
  KubeObject,
  Meta,
  PersistentVolumeClaim,
  Pod,
  PodCondition,
  Secret,
  Service,
} from '../kube/objects.ts';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Identity, the owner label, our annotations, deletion: what the reconciler reads of a child's metadata. */
function childMeta(m: Meta): Meta {
  const out: Meta = { name: m.name };
  if (m.namespace !== undefined) out.namespace = m.namespace;
  if (m.uid !== undefined) out.uid = m.uid;
  if (m.resourceVersion !== undefined) out.resourceVersion = m.resourceVersion;
  if (m.deletionTimestamp !== undefined) out.deletionTimestamp = m.deletionTimestamp;
  const owner = m.labels?.[LABEL_INSTANCE];
  if (owner !== undefined) out.labels = { [LABEL_INSTANCE]: owner };
  const annotations: Record<string, string> = {};
  let any = false;
  for (const key of [ANNOTATION_APPLIED_HASH, ANNOTATION_POD_HASH, ANNOTATION_POD_PARTS]) {
    const value = m.annotations?.[key];
    if (value !== undefined) {
      annotations[key] = value;
      any = true;
    }
  }
  if (any) out.annotations = annotations;
  return out;
}

/** The VirtualBMC is read whole (spec, status, finalizers, generation) except what only other tools write. */
export function keepVirtualBMC(raw: KubeObject): VirtualBMC {
  const v = raw as VirtualBMC & { metadata: { managedFields?: unknown } };
  const { managedFields: _, ...metadata } = v.metadata;
  if (metadata.annotations?.[LAST_APPLIED] !== undefined) {
    const { [LAST_APPLIED]: __, ...annotations } = metadata.annotations;
    metadata.annotations = annotations;
  }
  return { ...v, apiVersion: API_VERSION, kind: KIND, metadata };
}

/** Secret: its data is the agent's TLS pair and (generated) credentials, which the reconciler pins and uses. */
export function keepSecret(raw: KubeObject): Secret {
  const s = raw as Secret;
  const metadata = childMeta(s.metadata);
  if (s.metadata.ownerReferences) metadata.ownerReferences = s.metadata.ownerReferences;
  const out: Secret = { apiVersion: 'v1', kind: 'Secret', metadata };
  if (s.type !== undefined) out.type = s.type;
  if (s.data !== undefined) out.data = s.data;
  return out;
}

/** Service: its type and addresses (ClusterIP, LoadBalancer ingress). */
export function keepService(raw: KubeObject): Service {
  const s = raw as Service;
  const spec: Service['spec'] = {};
  if (s.spec?.type !== undefined) spec.type = s.spec.type;
  if (s.spec?.clusterIP !== undefined) spec.clusterIP = s.spec.clusterIP;
  const out: Service = { apiVersion: 'v1', kind: 'Service', metadata: childMeta(s.metadata), spec };
  const ingress = s.status?.loadBalancer?.ingress;
  if (ingress) {
    out.status = {
      loadBalancer: {
        ingress: ingress.map((i) => ({
          ...(i.ip !== undefined ? { ip: i.ip } : {}),
          ...(i.hostname !== undefined ? { hostname: i.hostname } : {}),
        })),
      },
    };
  }
  return out;
}

function keepContainerStatus(cs: ContainerStatus): ContainerStatus {
  const waiting = cs.state?.waiting;
  if (!waiting) return { name: cs.name };
  return {
    name: cs.name,
    state: {
      waiting: {
        ...(waiting.reason !== undefined ? { reason: waiting.reason } : {}),
        ...(waiting.message !== undefined ? { message: waiting.message } : {}),
      },
    },
  };
}

function keepCondition(c: PodCondition): PodCondition {
  const out: PodCondition = { type: c.type, status: c.status };
  if (c.reason !== undefined) out.reason = c.reason;
  if (c.message !== undefined) out.message = c.message;
  return out;
}

/** Pod: the node it is bound to, its phase, conditions, waiting reasons; not its spec (most of a pod's JSON). */
export function keepPod(raw: KubeObject): Pod {
  const p = raw as Pod;
  const spec: Pod['spec'] = {};
  if (typeof p.spec?.nodeName === 'string') spec.nodeName = p.spec.nodeName;
  const out: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: childMeta(p.metadata), spec };
  const st = p.status;
  if (st) {
    const status: NonNullable<Pod['status']> = {};
    if (st.phase !== undefined) status.phase = st.phase;
    if (st.reason !== undefined) status.reason = st.reason;
    if (st.message !== undefined) status.message = st.message;
    if (st.conditions) status.conditions = st.conditions.map(keepCondition);
    if (st.containerStatuses) status.containerStatuses = st.containerStatuses.map(keepContainerStatus);
    if (st.initContainerStatuses) status.initContainerStatuses = st.initContainerStatuses.map(keepContainerStatus);
    out.status = status;
  }
  return out;
}

/** PVC: metadata for the applied hash and deletion; its (small) spec so the object stays a whole PVC. */
export function keepPersistentVolumeClaim(raw: KubeObject): PersistentVolumeClaim {
  const c = raw as PersistentVolumeClaim;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: childMeta(c.metadata),
    spec: c.spec,
  };
}
