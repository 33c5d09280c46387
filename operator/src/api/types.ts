// VirtualBMC API types, kept by hand in sync with crds/virtualbmc.yaml
// (test/unit/operator/crd-types.test.ts fails when a field exists on one side only).

export const GROUP = 'qemu-bmc.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'VirtualBMC';
export const PLURAL = 'virtualbmcs';

export type Firmware = 'bios' | 'uefi';
export type Accelerator = 'auto' | 'kvm' | 'tcg';
export type BootDevice = 'disk' | 'cdrom' | 'network';
export type NicModel = 'virtio-net-pci' | 'e1000' | 'e1000e' | 'rtl8139';
export type RestorePolicy = 'AlwaysOff' | 'Previous' | 'AlwaysOn';
export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer';
export type AgentLogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface DiskSpec {
  name: string;
  size: string;
  storageClassName?: string;
  sourceImage?: string;
}

export interface CdromSpec {
  image: string;
}

export interface NetworkSpec {
  name: string;
  attachment?: string;
  interface?: string;
  macAddress?: string;
  model?: NicModel;
}

export interface VmSpec {
  cpus?: number;
  memory?: string;
  firmware?: Firmware;
  accelerator?: Accelerator;
  disks?: DiskSpec[];
  cdrom?: CdromSpec;
  bootOrder?: BootDevice[];
  networks?: NetworkSpec[];
  extraArgs?: string[];
}

export interface PowerSpec {
  initialState?: 'On' | 'Off';
  restorePolicy?: RestorePolicy;
}

export interface CredentialsSecretRef {
  name: string;
  usernameKey?: string;
  passwordKey?: string;
}

export interface ServiceSpec {
  type?: ServiceType;
  annotations?: Record<string, string>;
}

export interface ConsoleSpec {
  enabled?: boolean;
}

export interface ResourceList {
  [resource: string]: string | number;
}

export interface AgentResources {
  requests?: ResourceList;
  limits?: ResourceList;
}

export interface AgentSpec {
  image?: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  resources?: AgentResources;
  logLevel?: AgentLogLevel;
}

export interface VirtualBMCSpec {
  vm: VmSpec;
  power?: PowerSpec;
  credentialsSecretRef?: CredentialsSecretRef;
  service?: ServiceSpec;
  console?: ConsoleSpec;
  agent?: AgentSpec;
}

export type ConditionStatus = 'True' | 'False' | 'Unknown';
export const CONDITION_TYPES = ['Ready', 'PodScheduled', 'AgentReachable', 'VMRunning', 'Degraded'] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

export interface Condition {
  type: ConditionType;
  status: ConditionStatus;
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export interface BootOverrideStatus {
  target?: string;
  enabled?: string;
  mode?: string;
}

export interface Endpoints {
  redfish?: string;
  ipmi?: string;
  console?: string;
}

export interface VirtualBMCStatus {
  observedGeneration?: number;
  powerState?: string;
  bootOverride?: BootOverrideStatus;
  endpoints?: Endpoints;
  serviceIP?: string;
  podName?: string;
  credentialsSecret?: string;
  conditions?: Condition[];
}

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface VirtualBMC {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: VirtualBMCSpec;
  status?: VirtualBMCStatus;
}
