import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../bmc-agent/src/config.ts';
import { ANNOTATION_POD_HASH, LABEL_INSTANCE } from '../../../operator/src/api/names.ts';
import { quantityToMiB, quantityToQemuSize } from '../../../operator/src/reconcile/defaults.ts';
import { contentHash } from '../../../operator/src/reconcile/hash.ts';
import {
  desiredPod,
  GRACEFUL_SHUTDOWN_TIMEOUT_S,
  stableMac,
  TERMINATION_GRACE_PERIOD_S,
} from '../../../operator/src/reconcile/pod.ts';
import { desiredPvcs } from '../../../operator/src/reconcile/pvc.ts';
import {
  credentialsSource,
  desiredSecret,
  existingMaterial,
  missingMaterial,
  randomPassword,
} from '../../../operator/src/reconcile/secret.ts';
import { bmcAddress, desiredService } from '../../../operator/src/reconcile/service.ts';
import { vbmc } from './fixtures.ts';

const inputs = { serviceIP: '10.96.0.42', defaultImage: 'ghcr.io/example/qemu-bmc-agent:test' };

type Container = { env: { name: string; value?: string; valueFrom?: unknown }[]; image: string; resources: unknown };
const agentContainer = (pod: ReturnType<typeof desiredPod>) => (pod.spec['containers'] as Container[])[0] as Container;
const envOf = (pod: ReturnType<typeof desiredPod>) =>
  Object.fromEntries(agentContainer(pod).env.map((e) => [e.name, e.value ?? e.valueFrom]));

describe('owned objects', () => {
  it('every child is owned by the VirtualBMC as its controller and carries the instance label', () => {
    const v = vbmc();
    const children = [
      desiredService(v),
      desiredPod(v, inputs),
      ...desiredPvcs(v),
      desiredSecret(v, { username: 'admin', password: 'p', tlsCert: 'c', tlsKey: 'k' }),
    ];
    for (const child of children) {
      expect(child.metadata.namespace).toBe('lab');
      expect(child.metadata.ownerReferences).toEqual([
        {
          apiVersion: 'qemu-bmc.dev/v1alpha1',
          kind: 'VirtualBMC',
          name: 'node1',
          uid: v.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      expect(child.metadata.labels?.[LABEL_INSTANCE]).toBe('node1');
    }
  });

  it('the Service exposes Redfish on 443/TCP and IPMI on 623/UDP, selecting the agent pod', () => {
    const svc = desiredService(vbmc({ service: { type: 'LoadBalancer', annotations: { 'lb.example/pool': 'bmc' } } }));
    expect(svc.spec.ports?.map((p) => `${p.port}/${p.protocol}`)).toEqual(['443/TCP', '623/UDP']);
    expect(svc.spec.type).toBe('LoadBalancer');
    expect(svc.metadata.annotations).toEqual({ 'lb.example/pool': 'bmc' });
    const pod = desiredPod(vbmc(), inputs);
    for (const [k, val] of Object.entries(svc.spec.selector ?? {})) expect(pod.metadata.labels?.[k]).toBe(val);
  });

  it('PVCs: one for BMC state and one per disk with its size and storage class', () => {
    const pvcs = desiredPvcs(
      vbmc({
        vm: {
          disks: [
            { name: 'root', size: '20Gi', storageClassName: 'fast' },
            { name: 'data', size: '1Ti' },
          ],
        },
      }),
    );
    expect(pvcs.map((p) => [p.metadata.name, p.spec.resources.requests.storage, p.spec.storageClassName])).toEqual([
      ['node1-state', '64Mi', undefined],
      ['node1-disk-root', '20Gi', 'fast'],
      ['node1-disk-data', '1Ti', undefined],
    ]);
  });
});

describe('credentials Secret', () => {
  it('generates a random password only when no credentialsSecretRef is given', () => {
    expect(missingMaterial(vbmc(), {})).toEqual({ password: true, tls: true });
    expect(missingMaterial(vbmc({ credentialsSecretRef: { name: 'mine' } }), {})).toEqual({
      password: false,
      tls: true,
    });
    const a = randomPassword();
    const b = randomPassword();
    expect(a).toHaveLength(20);
    expect(a).not.toBe(b);
    expect(a).not.toBe('password');
  });

  it('keeps existing material: a Secret round-trips through existingMaterial unchanged', () => {
    const v = vbmc();
    const secret = desiredSecret(v, { username: 'admin', password: 's3cret', tlsCert: 'CERT', tlsKey: 'KEY' });
    const material = existingMaterial(secret);
    expect(material).toEqual({ username: 'admin', password: 's3cret', tlsCert: 'CERT', tlsKey: 'KEY' });
    expect(missingMaterial(v, material)).toEqual({ password: false, tls: false });
  });

  it('with credentialsSecretRef the generated Secret holds only TLS and the agent reads the user Secret', () => {
    const v = vbmc({ credentialsSecretRef: { name: 'bmc-creds', passwordKey: 'pw' } });
    const secret = desiredSecret(v, { tlsCert: 'C', tlsKey: 'K' });
    expect(Object.keys(secret.data ?? {}).sort()).toEqual(['tls.crt', 'tls.key']);
    expect(credentialsSource(v)).toEqual({ secretName: 'bmc-creds', usernameKey: 'username', passwordKey: 'pw' });
    expect(envOf(desiredPod(v, inputs))['IPMI_PASS']).toEqual({ secretKeyRef: { name: 'bmc-creds', key: 'pw' } });
  });

  it('refuses to build generated credentials without a password', () => {
    expect(() => desiredSecret(vbmc(), { tlsCert: 'C', tlsKey: 'K' })).toThrow(/credentials are missing/);
  });
});

describe('agent pod', () => {
  it('advertises the Service IP and passes the VM spec as agent env', () => {
    const v = vbmc({
      vm: {
        cpus: 4,
        memory: '3Gi',
        firmware: 'uefi',
        accelerator: 'tcg',
        disks: [{ name: 'root', size: '20Gi' }],
        cdrom: { image: 'https://example.com/x.iso' },
        bootOrder: ['network', 'disk'],
        extraArgs: ['-device', 'virtio-rng-pci'],
      },
      power: { initialState: 'On', restorePolicy: 'AlwaysOff' },
    });
    const env = envOf(desiredPod(v, inputs));
    expect(env).toMatchObject({
      BMC_ADDRESS: '10.96.0.42',
      VM_CPUS: '4',
      VM_MEMORY: '3072',
      VM_BOOT_MODE: 'uefi',
      ENABLE_KVM: 'false',
      VM_BOOT: 'n,c',
      VM_DISK: '/vm/disks/root/disk.qcow2',
      VM_DISK_SIZE: '20G',
      VM_CDROM: 'https://example.com/x.iso',
      QEMU_EXTRA_ARGS: '-device virtio-rng-pci',
      POWER_ON_AT_START: 'true',
      POWER_RESTORE_POLICY: 'AlwaysOff',
      VM_UUID: v.metadata.uid,
      REDFISH_PORT: '443',
      IPMI_PORT: '623',
    });
    expect(env['IPMI_USER']).toEqual({ secretKeyRef: { name: 'node1-bmc', key: 'username' } });
  });

  it('everything it passes parses in the agent: boot order, extra disks, NICs, accelerator, policy, console', () => {
    const v = vbmc({
      vm: {
        accelerator: 'kvm',
        disks: [
          { name: 'root', size: '20Gi' },
          { name: 'data', size: '1Ti' },
          { name: 'logs', size: '512Mi', sourceImage: 'https://img.example/logs.qcow2' },
        ],
        cdrom: { image: 'https://example.com/x.iso' },
        bootOrder: ['cdrom', 'network', 'disk'],
        networks: [
          { name: 'pxe', attachment: 'prov-net', model: 'e1000', macAddress: '52:54:00:aa:bb:cc' },
          { name: 'mgmt' },
        ],
      },
      power: { initialState: 'Off', restorePolicy: 'AlwaysOn' },
      console: { enabled: false },
    });
    const env = envOf(desiredPod(v, inputs));
    expect(env).toMatchObject({
      VM_BOOT: 'd,n,c',
      VM_EXTRA_DISKS: '/vm/disks/data/disk.qcow2,/vm/disks/logs/disk.qcow2',
      VM_EXTRA_DISK_SIZES: '1T,512M',
      VM_NETWORK_MODELS: 'e1000,virtio-net-pci',
      VM_ACCELERATOR: 'kvm',
      ENABLE_KVM: 'true',
      POWER_RESTORE_POLICY: 'AlwaysOn',
      CONSOLE_ENABLED: 'false',
    });
    const plain = Object.fromEntries(
      Object.entries(env).flatMap(([k, val]) => (typeof val === 'string' ? [[k, val]] : [])),
    );
    const config = parseConfig({ ...plain, IPMI_PASS: 'x' }, { primaryIPv4: () => null });
    expect(config.vm.boot).toEqual(['d', 'n', 'c']);
    expect(config.vm.extraDisks).toEqual([
      { path: '/vm/disks/data/disk.qcow2', size: '1T' },
      { path: '/vm/disks/logs/disk.qcow2', size: '512M' },
    ]);
    expect(config.vm.networkMacs).toEqual(['52:54:00:aa:bb:cc', stableMac(v.metadata.uid, 'nic1')]);
    expect(config.vm.networkModels).toEqual(['e1000', 'virtio-net-pci']);
    expect(config.vm.accelerator).toBe('kvm');
    expect(config.powerRestorePolicy).toBe('always-on');
    expect(config.consoleEnabled).toBe(false);
    // The defaults too: tcg, and the CRD's default boot order.
    const defaults = Object.fromEntries(
      Object.entries(envOf(desiredPod(vbmc({ vm: { accelerator: 'tcg' } }), inputs))).flatMap(([k, val]) =>
        typeof val === 'string' ? [[k, val]] : [],
      ),
    );
    const parsed = parseConfig({ ...defaults, IPMI_PASS: 'x' }, { primaryIPv4: () => null });
    expect(parsed.vm.accelerator).toBe('tcg');
    expect(parsed.vm.boot).toEqual(['c', 'n']);
  });

  it('gives the agent more time to stop than its GRACEFUL_SHUTDOWN_TIMEOUT, which it passes explicitly', () => {
    const pod = desiredPod(vbmc(), inputs);
    const env = envOf(pod);
    expect(env['GRACEFUL_SHUTDOWN_TIMEOUT']).toBe(String(GRACEFUL_SHUTDOWN_TIMEOUT_S));
    const grace = pod.spec['terminationGracePeriodSeconds'];
    expect(grace).toBe(TERMINATION_GRACE_PERIOD_S);
    // What the agent will really use, as its config parser reads the pod's env, and its built-in default.
    const plain = Object.fromEntries(Object.entries(env).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v]] : [])));
    const agentTimeout = parseConfig(
      { ...plain, IPMI_PASS: 'x' },
      { primaryIPv4: () => null },
    ).gracefulShutdownTimeoutS;
    expect(agentTimeout).toBe(GRACEFUL_SHUTDOWN_TIMEOUT_S);
    expect(parseConfig({}, { primaryIPv4: () => null }).gracefulShutdownTimeoutS).toBe(GRACEFUL_SHUTDOWN_TIMEOUT_S);
    // ACPI wait + QEMU quit (up to 5 s) + state flush must fit, with room to spare.
    expect(grace).toBeGreaterThanOrEqual(agentTimeout + 15);
  });

  it('refuses to build the pod before the Service has an IP', () => {
    expect(() => desiredPod(vbmc(), { ...inputs, serviceIP: '' })).toThrow(/Service IP/);
  });

  it('is hardened: no API token, no privilege escalation, all capabilities dropped but the needed ones', () => {
    const pod = desiredPod(vbmc(), inputs);
    expect(pod.spec['automountServiceAccountToken']).toBe(false);
    const sc = (agentContainer(pod) as unknown as { securityContext: Record<string, unknown> }).securityContext;
    expect(sc).toMatchObject({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
    });
  });

  it('the spec hash changes with the spec and only with it', () => {
    const a = desiredPod(vbmc(), inputs).metadata.annotations?.[ANNOTATION_POD_HASH];
    expect(desiredPod(vbmc(), inputs).metadata.annotations?.[ANNOTATION_POD_HASH]).toBe(a);
    expect(
      desiredPod(vbmc({ vm: { cpus: 3, disks: [] } }), inputs).metadata.annotations?.[ANNOTATION_POD_HASH],
    ).not.toBe(a);
    expect(
      desiredPod(vbmc(), { ...inputs, serviceIP: '10.96.0.43' }).metadata.annotations?.[ANNOTATION_POD_HASH],
    ).not.toBe(a);
  });

  it('networks: Multus attachments on the pod, stable MACs, NET_ADMIN only when needed', () => {
    const v = vbmc({ vm: { disks: [], networks: [{ name: 'pxe', attachment: 'prov-net' }, { name: 'mgmt' }] } });
    const pod = desiredPod(v, inputs);
    expect(pod.metadata.annotations?.['k8s.v1.cni.cncf.io/networks']).toBe('prov-net');
    const env = envOf(pod);
    expect(env['VM_NETWORKS']).toBe('net1,eth0');
    expect(env['VM_NETWORK_MACS']).toBe(`${stableMac(v.metadata.uid, 'nic0')},${stableMac(v.metadata.uid, 'nic1')}`);
    expect(stableMac(v.metadata.uid, 'nic0')).toMatch(/^[0-9a-f][26ae](:[0-9a-f]{2}){5}$/);
  });

  it('a disk with a source image gets a seeding init container that passes values as env, not shell text', () => {
    const v = vbmc({
      vm: { disks: [{ name: 'root', size: '10Gi', sourceImage: 'https://img.example/a.qcow2;rm -rf /' }] },
    });
    const init = (desiredPod(v, inputs).spec['initContainers'] as { command: string[]; env: unknown[] }[])[0];
    expect(init?.command.join(' ')).not.toContain('img.example');
    expect(init?.env).toContainEqual({ name: 'SOURCE', value: 'https://img.example/a.qcow2;rm -rf /' });
  });
});

describe('helpers', () => {
  it('quantities', () => {
    expect(quantityToMiB('512Mi')).toBe(512);
    expect(quantityToMiB('4Gi')).toBe(4096);
    expect(quantityToQemuSize('20Gi')).toBe('20G');
    expect(() => quantityToMiB('4GB')).toThrow(/invalid quantity '4GB'/);
  });

  it('contentHash ignores key order and undefined fields', () => {
    expect(contentHash({ a: 1, b: [1, { c: 2 }] })).toBe(contentHash({ b: [1, { c: 2 }], a: 1, z: undefined }));
    expect(contentHash({ a: 1 })).not.toBe(contentHash({ a: 2 }));
  });

  it('the advertised BMC address: ClusterIP, or a LoadBalancer external IPv4 once assigned', () => {
    const svc = (type: string, ingress?: { ip?: string; hostname?: string }[]) => ({
      ...desiredService(vbmc()),
      spec: { type, clusterIP: '10.96.0.42' },
      ...(ingress ? { status: { loadBalancer: { ingress } } } : {}),
    });
    expect(bmcAddress(undefined)).toBeUndefined();
    expect(bmcAddress(svc('ClusterIP'))).toBe('10.96.0.42');
    expect(bmcAddress(svc('NodePort'))).toBe('10.96.0.42');
    expect(bmcAddress(svc('LoadBalancer'))).toBeUndefined();
    expect(bmcAddress(svc('LoadBalancer', [{ ip: '192.0.2.7' }]))).toBe('192.0.2.7');
    expect(bmcAddress(svc('LoadBalancer', [{ hostname: 'lb.example.com' }]))).toBe('10.96.0.42');
  });
});
