// Status as a pure function of what the operator observes: the Service, the pod, the agent link and the
// outcome of the last reconcile. Conditions keep their lastTransitionTime while their status is unchanged,
// so an unchanged world computes an identical status and nothing is written.
import type {
  BootOverrideStatus,
  Condition,
  ConditionStatus,
  ConditionType,
  Endpoints,
  VirtualBMC,
  VirtualBMCStatus,
} from '../api/types.ts';
import type { Pod, Service } from '../kube/objects.ts';
import { effectiveSpec } from './defaults.ts';
import { credentialsSource } from './secret.ts';
import { IPMI_PORT, loadBalancerPending } from './service.ts';

export interface AgentObservation {
  reachable: boolean;
  powerState?: string;
  bootOverride?: BootOverrideStatus;
  /** Why the agent cannot be reached (when reachable is false). */
  error?: string;
}

export interface StatusInputs {
  vbmc: VirtualBMC;
  service?: Service;
  pod?: Pod;
  agent?: AgentObservation;
  /** Message of the last reconcile failure, if it failed. */
  reconcileError?: string;
  now: string;
}

type Verdict = [status: ConditionStatus, reason: string, message: string];

const WAITING_FAILURES = new Set([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
]);

/** The address clients use: a LoadBalancer's external IP once assigned, else the ClusterIP. */
export function advertisedHost(service: Service | undefined): string | undefined {
  const ingress = service?.status?.loadBalancer?.ingress?.[0];
  if (service?.spec.type === 'LoadBalancer' && ingress) return ingress.ip ?? ingress.hostname;
  const ip = service?.spec.clusterIP;
  return ip && ip !== 'None' ? ip : undefined;
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export function endpointsFor(vbmc: VirtualBMC, service: Service | undefined): Endpoints | undefined {
  const host = advertisedHost(service);
  if (!host) return undefined;
  const h = formatHost(host);
  return {
    redfish: `https://${h}/redfish/v1`,
    ipmi: `${h}:${IPMI_PORT}`,
    ...(effectiveSpec(vbmc).consoleEnabled ? { console: `https://${h}/novnc/` } : {}),
  };
}

function podScheduled(pod: Pod | undefined): Verdict {
  if (!pod) return ['False', 'PodMissing', 'the agent pod does not exist yet'];
  const cond = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (cond)
    return [
      cond.status as ConditionStatus,
      cond.reason ?? (cond.status === 'True' ? 'Scheduled' : 'Unschedulable'),
      cond.message ?? '',
    ];
  if (pod.spec.nodeName) return ['True', 'Scheduled', `scheduled to ${pod.spec.nodeName}`];
  return ['Unknown', 'Pending', 'waiting for the scheduler'];
}

function agentReachable(pod: Pod | undefined, agent: AgentObservation | undefined): Verdict {
  if (pod?.status?.phase !== 'Running') return ['False', 'PodNotRunning', 'the agent pod is not running'];
  if (!agent) return ['Unknown', 'Connecting', 'connecting to the agent'];
  if (agent.reachable) return ['True', 'Connected', 'subscribed to the agent event stream'];
  return ['False', 'Unreachable', agent.error ?? 'the agent does not answer'];
}

function vmRunning(power: string): Verdict {
  switch (power) {
    case 'On':
      return ['True', 'PoweredOn', 'the VM is powered on'];
    case 'Off':
      return ['False', 'PoweredOff', 'the VM is powered off'];
    case 'PoweringOn':
    case 'PoweringOff':
      return ['False', power, `the VM is ${power === 'PoweringOn' ? 'powering on' : 'powering off'}`];
    default:
      return ['Unknown', 'PowerStateUnknown', 'the agent has not reported a power state'];
  }
}

function degraded(inputs: StatusInputs): Verdict {
  const { pod, reconcileError } = inputs;
  if (reconcileError) return ['True', 'ReconcileFailed', reconcileError];
  if (pod?.status?.phase === 'Failed')
    return ['True', 'PodFailed', pod.status.message ?? pod.status.reason ?? 'the agent pod failed'];
  for (const cs of [...(pod?.status?.initContainerStatuses ?? []), ...(pod?.status?.containerStatuses ?? [])]) {
    const reason = cs.state?.waiting?.reason;
    if (reason && WAITING_FAILURES.has(reason))
      return ['True', reason, `${cs.name}: ${cs.state?.waiting?.message ?? reason}`];
  }
  return ['False', 'AsExpected', 'no problems detected'];
}

function ready(inputs: StatusInputs, endpoints: Endpoints | undefined, agent: Verdict): Verdict {
  const { vbmc, pod } = inputs;
  if (vbmc.metadata.deletionTimestamp) return ['False', 'Terminating', 'the VirtualBMC is being deleted'];
  if (!endpoints) return ['False', 'ServicePending', 'the Service has no IP yet'];
  if (!pod && loadBalancerPending(inputs.service)) {
    return ['False', 'LoadBalancerPending', 'waiting for the LoadBalancer address the BMC will advertise'];
  }
  if (!pod) return ['False', 'PodMissing', 'the agent pod does not exist yet'];
  if (pod.metadata.deletionTimestamp) return ['False', 'PodTerminating', 'the agent pod is being replaced'];
  if (pod.status?.phase !== 'Running')
    return ['False', 'PodNotRunning', `the agent pod is ${pod.status?.phase ?? 'Pending'}`];
  if (agent[0] !== 'True') return ['False', 'AgentUnreachable', agent[2]];
  return ['True', 'Ready', 'the BMC answers on its endpoints'];
}

function condition(type: ConditionType, verdict: Verdict, inputs: StatusInputs): Condition {
  const [status, reason, message] = verdict;
  const previous = inputs.vbmc.status?.conditions?.find((c) => c.type === type);
  return {
    type,
    status,
    observedGeneration: inputs.vbmc.metadata.generation ?? 0,
    lastTransitionTime: previous && previous.status === status ? previous.lastTransitionTime : inputs.now,
    reason,
    message,
  };
}

export function computeStatus(inputs: StatusInputs): VirtualBMCStatus {
  const { vbmc, pod, service, agent } = inputs;
  const endpoints = endpointsFor(vbmc, service);
  const reach = agentReachable(pod, agent);
  const powerState = reach[0] === 'True' && agent?.powerState ? agent.powerState : 'Unknown';
  const status: VirtualBMCStatus = {
    observedGeneration: vbmc.metadata.generation ?? 0,
    powerState,
    conditions: [
      condition('Ready', ready(inputs, endpoints, reach), inputs),
      condition('PodScheduled', podScheduled(pod), inputs),
      condition('AgentReachable', reach, inputs),
      condition('VMRunning', vmRunning(powerState), inputs),
      condition('Degraded', degraded(inputs), inputs),
    ],
    credentialsSecret: credentialsSource(vbmc).secretName,
  };
  if (reach[0] === 'True' && agent?.bootOverride) status.bootOverride = { ...agent.bootOverride };
  if (endpoints) status.endpoints = endpoints;
  const ip = service?.spec.clusterIP;
  if (ip && ip !== 'None') status.serviceIP = ip;
  if (pod) status.podName = pod.metadata.name;
  return status;
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => sameJson(v, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
    const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
    return (
      ka.length === kb.length &&
      ka.every((k) => sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
    );
  }
  return false;
}

/** True when writing `next` would change nothing (status is written only when it changes). */
export function statusUnchanged(current: VirtualBMCStatus | undefined, next: VirtualBMCStatus): boolean {
  return sameJson(current ?? {}, next);
}
