// Spec defaults as the CRD schema applies them; the builders also run on objects that bypassed the
// apiserver's defaulting (unit tests, older stored objects), so they read the spec through here.
import type { AgentLogLevel, BootDevice, RestorePolicy, ServiceType, VirtualBMC } from '../api/types.ts';

export interface EffectiveSpec {
  cpus: number;
  memoryMiB: number;
  firmware: 'bios' | 'uefi';
  accelerator: 'auto' | 'kvm' | 'tcg';
  bootOrder: BootDevice[];
  initialState: 'On' | 'Off';
  restorePolicy: RestorePolicy;
  serviceType: ServiceType;
  consoleEnabled: boolean;
  logLevel: AgentLogLevel;
  usernameKey: string;
  passwordKey: string;
}

const UNIT_MIB: Record<string, number> = { Mi: 1, Gi: 1024, Ti: 1024 * 1024 };

/** "2Gi" → 2048. Throws on anything but <digits>(Mi|Gi|Ti), the only forms the schema admits. */
export function quantityToMiB(quantity: string): number {
  const match = /^([1-9][0-9]{0,6})(Mi|Gi|Ti)$/.exec(quantity);
  if (!match) throw new Error(`invalid quantity '${quantity}' (want e.g. 512Mi, 4Gi, 1Ti)`);
  return Number(match[1]) * (UNIT_MIB[match[2] as string] as number);
}

/** Kubernetes binary quantity → qemu-img size suffix ("20Gi" → "20G"). */
export function quantityToQemuSize(quantity: string): string {
  quantityToMiB(quantity);
  return quantity.replace(/i$/, '');
}

export function effectiveSpec(vbmc: VirtualBMC): EffectiveSpec {
  const { vm, power, service, console, agent, credentialsSecretRef } = vbmc.spec;
  return {
    cpus: vm.cpus ?? 2,
    memoryMiB: quantityToMiB(vm.memory ?? '2Gi'),
    firmware: vm.firmware ?? 'bios',
    accelerator: vm.accelerator ?? 'auto',
    bootOrder: vm.bootOrder ?? ['disk', 'network'],
    initialState: power?.initialState ?? 'Off',
    restorePolicy: power?.restorePolicy ?? 'Previous',
    serviceType: service?.type ?? 'ClusterIP',
    consoleEnabled: console?.enabled ?? true,
    logLevel: agent?.logLevel ?? 'info',
    usernameKey: credentialsSecretRef?.usernameKey ?? 'username',
    passwordKey: credentialsSecretRef?.passwordKey ?? 'password',
  };
}
