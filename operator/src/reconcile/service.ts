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
