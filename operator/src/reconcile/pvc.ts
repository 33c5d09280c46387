// PersistentVolumeClaims: one small claim for the BMC's own state (users, LAN settings, boot flags that
// MAAS writes in-band must survive a pod restart) and one per VM disk.
import { childNames, ownerLabels, ownerReference } from '../api/names.ts';
import type { VirtualBMC } from '../api/types.ts';
import type { PersistentVolumeClaim } from '../kube/objects.ts';

export const STATE_PVC_SIZE = '64Mi';

function claim(vbmc: VirtualBMC, name: string, size: string, storageClassName?: string): PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name,
      namespace: vbmc.metadata.namespace,
      labels: ownerLabels(vbmc),
      ownerReferences: [ownerReference(vbmc)],
    },
    spec: {
      accessModes: ['ReadWriteOnce'],
      volumeMode: 'Filesystem',
      resources: { requests: { storage: size } },
      ...(storageClassName ? { storageClassName } : {}),
    },
  };
}

export function desiredPvcs(vbmc: VirtualBMC): PersistentVolumeClaim[] {
  const names = childNames(vbmc.metadata.name);
  const disks = vbmc.spec.vm.disks ?? [];
  return [
    claim(vbmc, names.statePvc, STATE_PVC_SIZE),
    ...disks.map((disk) => claim(vbmc, names.diskPvc(disk.name), disk.size, disk.storageClassName)),
  ];
}
