// The Service in front of the agent: Redfish (HTTPS) on 443/TCP and IPMI on 623/UDP. Its ClusterIP is the
// address the BMC advertises, so it is created before the pod.
import { childNames, LABEL_INSTANCE, ownerLabels, ownerReference } from '../api/names.ts';
import type { VirtualBMC } from '../api/types.ts';
import type { Service } from '../kube/objects.ts';
import { effectiveSpec } from './defaults.ts';

export const REDFISH_PORT = 443;
export const IPMI_PORT = 623;

export function podSelector(vbmc: VirtualBMC): Record<string, string> {
  return { [LABEL_INSTANCE]: vbmc.metadata.name };
}

export function desiredService(vbmc: VirtualBMC): Service {
  const spec = effectiveSpec(vbmc);
  const annotations = vbmc.spec.service?.annotations;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: childNames(vbmc.metadata.name).service,
      namespace: vbmc.metadata.namespace,
      labels: ownerLabels(vbmc),
      ...(annotations && Object.keys(annotations).length > 0 ? { annotations: { ...annotations } } : {}),
      ownerReferences: [ownerReference(vbmc)],
    },
    spec: {
      type: spec.serviceType,
      selector: podSelector(vbmc),
      ports: [
        { name: 'redfish', port: REDFISH_PORT, targetPort: 'redfish', protocol: 'TCP' },
        { name: 'ipmi', port: IPMI_PORT, targetPort: 'ipmi', protocol: 'UDP' },
      ],
    },
  };
}

/**
 * The address the BMC advertises (BMC_ADDRESS: IPMI LAN parameters, Redfish EthernetInterface), i.e. what MAAS
 * reads in-band and registers: a LoadBalancer's external IPv4 address, else the ClusterIP. A LoadBalancer without
 * one yet yields undefined, so the pod waits instead of being restarted when the address arrives.
 */
export function bmcAddress(service: Service | undefined): string | undefined {
  if (!service) return undefined;
  const clusterIP = service.spec.clusterIP && service.spec.clusterIP !== 'None' ? service.spec.clusterIP : undefined;
  if (service.spec.type !== 'LoadBalancer') return clusterIP;
  const ingress = service.status?.loadBalancer?.ingress ?? [];
  if (ingress.length === 0) return undefined;
  // A hostname-only load balancer has no address to put in IPMI's LAN parameters: the ClusterIP stands in.
  return ingress.find((i) => i.ip && !i.ip.includes(':'))?.ip ?? clusterIP;
}

/** True while a LoadBalancer Service waits for its external address. */
export function loadBalancerPending(service: Service | undefined): boolean {
  return service?.spec.type === 'LoadBalancer' && (service.status?.loadBalancer?.ingress ?? []).length === 0;
}
