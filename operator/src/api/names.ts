// Names, labels and annotations of everything the operator owns, in one place.
import { API_VERSION, GROUP, KIND, type VirtualBMC } from './types.ts';

export const FIELD_MANAGER = 'qemu-bmc-operator';
export const FINALIZER = `${GROUP}/cleanup`;
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_NAME = 'app.kubernetes.io/name';
export const LABEL_INSTANCE = `${GROUP}/virtualbmc`;
export const MANAGED_BY_VALUE = 'qemu-bmc-operator';
/** Hash of what the operator last applied; equal hash = nothing to write (keeps an idle operator write-free). */
export const ANNOTATION_APPLIED_HASH = `${GROUP}/applied-hash`;
/** Hash of the pod's desired spec; a different hash means the pod must be recreated (pods are mostly immutable). */
export const ANNOTATION_POD_HASH = `${GROUP}/pod-spec-hash`;
/** Short hashes of the pod's parts (each agent variable, image, resources, ...): names what changed in an Event. */
export const ANNOTATION_POD_PARTS = `${GROUP}/pod-parts`;

/** Label selector for the informers of owned objects. */
export const MANAGED_SELECTOR = `${LABEL_MANAGED_BY}=${MANAGED_BY_VALUE}`;

export const childNames = (name: string) => ({
  secret: `${name}-bmc`,
  service: `${name}-bmc`,
  pod: `${name}-bmc`,
  statePvc: `${name}-state`,
  diskPvc: (disk: string) => `${name}-disk-${disk}`,
});

export function ownerLabels(vbmc: VirtualBMC): Record<string, string> {
  return {
    [LABEL_MANAGED_BY]: MANAGED_BY_VALUE,
    [LABEL_NAME]: 'qemu-bmc',
    [LABEL_INSTANCE]: vbmc.metadata.name,
  };
}

export function ownerReference(vbmc: VirtualBMC) {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: vbmc.metadata.name,
    uid: vbmc.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export const keyOf = (namespace: string, name: string): string => `${namespace}/${name}`;

export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  if (slash <= 0 || slash === key.length - 1) throw new Error(`invalid key '${key}' (want namespace/name)`);
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
