import type { VirtualBMC, VirtualBMCSpec } from '../../../operator/src/api/types.ts';

export function vbmc(spec: Partial<VirtualBMCSpec> = {}, meta: Partial<VirtualBMC['metadata']> = {}): VirtualBMC {
  return {
    apiVersion: 'qemu-bmc.dev/v1alpha1',
    kind: 'VirtualBMC',
    metadata: { name: 'node1', namespace: 'lab', uid: '11111111-2222-3333-4444-555555555555', generation: 1, ...meta },
    spec: { vm: { disks: [{ name: 'root', size: '20Gi' }] }, ...spec },
  };
}
