// The agent pod: one container running the BMC and QEMU. Operator-owned rather than a StatefulSet
// (see docs/operator.md): the operator decides when a spec change restarts the VM and deletes the pod first
// on cleanup, so the VM shuts down before its disks go away.
import { createHash } from 'node:crypto';
import { ANNOTATION_POD_HASH, ANNOTATION_POD_PARTS, childNames, ownerLabels, ownerReference } from '../api/names.ts';
import type { VirtualBMC } from '../api/types.ts';
import type { Pod } from '../kube/objects.ts';
import { effectiveSpec, quantityToQemuSize } from './defaults.ts';
import { contentHash } from './hash.ts';
import { credentialsSource, TLS_CERT_KEY, TLS_KEY_KEY } from './secret.ts';
import { IPMI_PORT, podSelector, REDFISH_PORT } from './service.ts';

export const STATE_DIR = '/var/lib/qemu-bmc';
export const TLS_DIR = '/etc/qemu-bmc/tls';
export const DISK_DIR = '/vm/disks';
export const INBAND_IPMI_ADDR = '127.0.0.1:9002';
export const MULTUS_ANNOTATION = 'k8s.v1.cni.cncf.io/networks';
/**
 * The agent's GRACEFUL_SHUTDOWN_TIMEOUT (seconds the guest gets to act on the ACPI power button at SIGTERM before
 * QEMU is quit), passed explicitly; the agent's own default is the same 60 (test/unit/operator/builders.test.ts).
 */
export const GRACEFUL_SHUTDOWN_TIMEOUT_S = 60;
/**
 * Headroom after that wait: QEMU quit (SIGKILL after 5 s), closing the front ends and flushing the state file.
 * The kubelet's SIGKILL must never land in the middle of it.
 */
export const SHUTDOWN_HEADROOM_S = 30;
export const TERMINATION_GRACE_PERIOD_S = GRACEFUL_SHUTDOWN_TIMEOUT_S + SHUTDOWN_HEADROOM_S;

export interface PodInputs {
  /** The address the BMC advertises (IPMI LAN parameters, Redfish EthernetInterface): see bmcAddress(). */
  serviceIP: string;
  /** Agent image when the spec names none. */
  defaultImage: string;
}

/** A stable, locally administered unicast MAC derived from the VirtualBMC's UID and a purpose. */
export function stableMac(uid: string, purpose: string): string {
  const bytes = createHash('sha256').update(`${uid}/${purpose}`).digest().subarray(0, 6);
  bytes[0] = ((bytes[0] as number) & 0xfc) | 0x02;
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

const BOOT_LETTER = { disk: 'c', cdrom: 'd', network: 'n' } as const;

const diskPath = (name: string) => `${DISK_DIR}/${name}/disk.qcow2`;

function env(name: string, value: string) {
  return { name, value };
}

function agentEnv(vbmc: VirtualBMC, inputs: PodInputs) {
  const spec = effectiveSpec(vbmc);
  const creds = credentialsSource(vbmc);
  const { vm } = vbmc.spec;
  const disks = vm.disks ?? [];
  const networks = vm.networks ?? [];
  const vars = [
    { name: 'IPMI_USER', valueFrom: { secretKeyRef: { name: creds.secretName, key: creds.usernameKey } } },
    { name: 'IPMI_PASS', valueFrom: { secretKeyRef: { name: creds.secretName, key: creds.passwordKey } } },
    env('REDFISH_PORT', String(REDFISH_PORT)),
    env('IPMI_PORT', String(IPMI_PORT)),
    env('TLS_CERT', `${TLS_DIR}/${TLS_CERT_KEY}`),
    env('TLS_KEY', `${TLS_DIR}/${TLS_KEY_KEY}`),
    env('STATE_DIR', STATE_DIR),
    env('BMC_ADDRESS', inputs.serviceIP),
    env('BMC_MAC', stableMac(vbmc.metadata.uid, 'bmc')),
    env('VM_UUID', vbmc.metadata.uid),
    env('VM_CPUS', String(spec.cpus)),
    env('VM_MEMORY', String(spec.memoryMiB)),
    env('VM_BOOT_MODE', spec.firmware),
    env('VM_ACCELERATOR', spec.accelerator),
    env('ENABLE_KVM', spec.accelerator === 'tcg' ? 'false' : 'true'),
    // The whole order, as the agent's VM_BOOT list (n,c,d); devices not listed follow in the agent's order.
    env(
      'VM_BOOT',
      (spec.bootOrder.length > 0 ? spec.bootOrder : ['disk' as const]).map((d) => BOOT_LETTER[d]).join(','),
    ),
    env('VM_IPMI_ADDR', INBAND_IPMI_ADDR),
    env('POWER_ON_AT_START', spec.initialState === 'On' ? 'true' : 'false'),
    env('POWER_RESTORE_POLICY', spec.restorePolicy),
    env('GRACEFUL_SHUTDOWN_TIMEOUT', String(GRACEFUL_SHUTDOWN_TIMEOUT_S)),
    env('CONSOLE_ENABLED', spec.consoleEnabled ? 'true' : 'false'),
    env('LOG_LEVEL', spec.logLevel),
  ];
  const [boot, ...extra] = disks;
  if (boot) vars.push(env('VM_DISK', diskPath(boot.name)), env('VM_DISK_SIZE', quantityToQemuSize(boot.size)));
  else vars.push(env('VM_DISK', '')); // diskless (network boot only); unset would mean the agent's default disk
  if (extra.length > 0)
    vars.push(
      env('VM_EXTRA_DISKS', extra.map((d) => diskPath(d.name)).join(',')),
      // Created by the agent when missing (a disk with a sourceImage is already seeded by its init container).
      env('VM_EXTRA_DISK_SIZES', extra.map((d) => quantityToQemuSize(d.size)).join(',')),
    );
  if (vm.cdrom) vars.push(env('VM_CDROM', vm.cdrom.image));
  if (networks.length > 0) {
    let attached = 0;
    const ifaces = networks.map((n) => n.interface ?? (n.attachment ? `net${++attached}` : 'eth0'));
    vars.push(
      env('VM_NETWORKS', ifaces.join(',')),
      env('VM_NETWORK_MACS', networks.map((n, i) => n.macAddress ?? stableMac(vbmc.metadata.uid, `nic${i}`)).join(',')),
      env('VM_NETWORK_MODELS', networks.map((n) => n.model ?? 'virtio-net-pci').join(',')),
    );
  }
  if (vm.extraArgs && vm.extraArgs.length > 0) vars.push(env('QEMU_EXTRA_ARGS', vm.extraArgs.join(' ')));
  return vars;
}

/** Copies a disk's source image into a fresh disk once; skipped when the disk already exists (pod restarts). */
const SEED_DISK_SCRIPT =
  'set -eu; [ -e "$DISK" ] && exit 0; qemu-img convert -O qcow2 "$SOURCE" "$DISK.part"; ' +
  'qemu-img resize "$DISK.part" "$SIZE"; mv "$DISK.part" "$DISK"';

function defaultResources(memoryMiB: number) {
  const memory = `${memoryMiB + 256}Mi`;
  return { requests: { cpu: '500m', memory }, limits: { memory } };
}

export function desiredPod(vbmc: VirtualBMC, inputs: PodInputs): Pod {
  if (!inputs.serviceIP) throw new Error('the pod needs the Service IP (BMC_ADDRESS); create the Service first');
  const spec = effectiveSpec(vbmc);
  const names = childNames(vbmc.metadata.name);
  const { vm, agent } = vbmc.spec;
  const disks = vm.disks ?? [];
  const networks = vm.networks ?? [];
  const image = agent?.image ?? inputs.defaultImage;
  const attachments = networks.flatMap((n) => (n.attachment ? [n.attachment] : []));
  const capabilities = networks.length > 0 ? ['NET_BIND_SERVICE', 'NET_ADMIN'] : ['NET_BIND_SERVICE'];
  const securityContext = {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ['ALL'], add: capabilities },
    seccompProfile: { type: 'RuntimeDefault' },
  };
  const diskMounts = disks.map((d) => ({ name: `disk-${d.name}`, mountPath: `${DISK_DIR}/${d.name}` }));
  const volumes: Record<string, unknown>[] = [
    { name: 'state', persistentVolumeClaim: { claimName: names.statePvc } },
    {
      name: 'tls',
      secret: {
        secretName: names.secret,
        defaultMode: 0o400,
        items: [
          { key: TLS_CERT_KEY, path: TLS_CERT_KEY },
          { key: TLS_KEY_KEY, path: TLS_KEY_KEY },
        ],
      },
    },
    ...disks.map((d) => ({ name: `disk-${d.name}`, persistentVolumeClaim: { claimName: names.diskPvc(d.name) } })),
  ];
  const mounts: Record<string, unknown>[] = [
    { name: 'state', mountPath: STATE_DIR },
    { name: 'tls', mountPath: TLS_DIR, readOnly: true },
    ...diskMounts,
  ];
  if (spec.accelerator === 'kvm') {
    volumes.push({ name: 'kvm', hostPath: { path: '/dev/kvm', type: 'CharDevice' } });
    mounts.push({ name: 'kvm', mountPath: '/dev/kvm' });
  }
  if (networks.length > 0) {
    volumes.push({ name: 'tun', hostPath: { path: '/dev/net/tun', type: 'CharDevice' } });
    mounts.push({ name: 'tun', mountPath: '/dev/net/tun' });
  }
  const initContainers = disks
    .filter((d) => d.sourceImage)
    .map((d) => ({
      name: `seed-${d.name}`,
      image,
      ...(agent?.imagePullPolicy ? { imagePullPolicy: agent.imagePullPolicy } : {}),
      command: ['sh', '-c', SEED_DISK_SCRIPT],
      env: [
        env('SOURCE', d.sourceImage as string),
        env('DISK', diskPath(d.name)),
        env('SIZE', quantityToQemuSize(d.size)),
      ],
      volumeMounts: [{ name: `disk-${d.name}`, mountPath: `${DISK_DIR}/${d.name}` }],
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    }));
  const podSpec: Record<string, unknown> = {
    restartPolicy: 'Always',
    // The agent never talks to the apiserver: power state flows back over its Redfish event stream.
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    // Above the agent's GRACEFUL_SHUTDOWN_TIMEOUT: the guest's ACPI shutdown, then QEMU quit and the state flush.
    terminationGracePeriodSeconds: TERMINATION_GRACE_PERIOD_S,
    ...(initContainers.length > 0 ? { initContainers } : {}),
    containers: [
      {
        name: 'agent',
        image,
        ...(agent?.imagePullPolicy ? { imagePullPolicy: agent.imagePullPolicy } : {}),
        env: agentEnv(vbmc, inputs),
        ports: [
          { name: 'redfish', containerPort: REDFISH_PORT, protocol: 'TCP' },
          { name: 'ipmi', containerPort: IPMI_PORT, protocol: 'UDP' },
        ],
        readinessProbe: { tcpSocket: { port: 'redfish' }, periodSeconds: 10 },
        resources: agent?.resources ?? defaultResources(spec.memoryMiB),
        securityContext,
        volumeMounts: mounts,
      },
    ],
    volumes,
  };
  const annotations: Record<string, string> =
    attachments.length > 0 ? { [MULTUS_ANNOTATION]: attachments.join(',') } : {};
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: names.pod,
      namespace: vbmc.metadata.namespace,
      labels: { ...ownerLabels(vbmc), ...podSelector(vbmc) },
      annotations,
      ownerReferences: [ownerReference(vbmc)],
    },
    spec: podSpec,
  };
  // The parts annotation is not in the hash: adding it replaced no pod that predates it.
  pod.metadata.annotations = {
    ...annotations,
    [ANNOTATION_POD_HASH]: contentHash({ annotations, spec: podSpec }),
    [ANNOTATION_POD_PARTS]: podParts(annotations, podSpec),
  };
  return pod;
}

const shortHash = (value: unknown) => contentHash(value).slice(0, 6);

/**
 * "name=hash,..." for the parts of a pod a user can tell apart: each agent variable by name, the image, resources,
 * volumes, init containers, network attachments, and the rest. Compared by changedPodParts().
 */
export function podParts(annotations: Record<string, string>, podSpec: Record<string, unknown>): string {
  const { containers, initContainers, volumes, ...rest } = podSpec as {
    containers: { env?: { name: string }[]; image?: string; imagePullPolicy?: string; resources?: unknown }[];
    initContainers?: unknown;
    volumes?: unknown;
  };
  const [agent, ...others] = containers;
  const { env = [], image, imagePullPolicy, resources, ...container } = agent ?? {};
  const parts: [string, unknown][] = [
    ...env.map((e): [string, unknown] => [e.name, e]),
    ['image', [image, imagePullPolicy]],
    ['resources', resources],
    ['volumes', volumes],
    ['initContainers', initContainers],
    ['networks', annotations],
    ['pod', [rest, container, others]],
  ];
  return parts.map(([name, value]) => `${name}=${shortHash(value ?? null)}`).join(',');
}

/** The parts that differ between two podParts() values (none known when the old pod predates the annotation). */
export function changedPodParts(before: string | undefined, after: string | undefined): string[] {
  if (!before || !after) return [];
  const parse = (s: string) => new Map(s.split(',').map((p) => p.split('=') as [string, string]));
  const [a, b] = [parse(before), parse(after)];
  return [...new Set([...a.keys(), ...b.keys()])].filter((k) => a.get(k) !== b.get(k));
}
