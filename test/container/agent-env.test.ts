import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AGENT_IMAGE,
  type AgentContainer,
  buildImage,
  type Credentials,
  ipmitool,
  removeContainers,
  removeVolumes,
  requireClients,
  startAgentContainer,
  uniqueName,
  waitFor,
} from './support.ts';

// The seed's container variables, set the way a user sets them (docker run -e), checked where they end up: QEMU's
// argv, its sockets inside the container, and what clients see. No guest here: the VM boots its (empty) firmware.

const creds: Credentials = { user: 'operator7', password: 'custom-pass-123' };
const volume = uniqueName('vm');
let agent: AgentContainer;

/** Listening sockets of the container (hex ports from /proc/net, no ss/netstat in the image). */
async function listening(proto: 'tcp' | 'udp'): Promise<number[]> {
  const r = await agent.exec(['cat', `/proc/net/${proto}`, `/proc/net/${proto}6`]);
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[1]?.includes(':') && (proto === 'udp' ? f[3] === '07' : f[3] === '0A'))
    .map((f) => Number.parseInt(f[1]!.split(':').pop()!, 16));
}

describe('agent image: seed variables', () => {
  beforeAll(async () => {
    requireClients();
    buildImage('Dockerfile.agent', AGENT_IMAGE);
    agent = await startAgentContainer({
      env: {
        // ENABLE_KVM stays at its default (true); the container has no /dev/kvm, so the agent falls back to TCG.
        IPMI_USER: creds.user,
        IPMI_PASS: creds.password,
        IPMI_ALLOW_V15: 'true',
        VM_MEMORY: '128',
        VM_CPUS: '3',
        VNC_PORT: '5901',
        VM_DISK: '/vm/missing.qcow2',
        VM_CDROM: '/vm/test.iso',
        VM_BOOT: 'd',
        VM_BOOT_MODE: 'uefi',
        QEMU_EXTRA_ARGS: '-device virtio-rng-pci,id=rng0',
        DEBUG: 'true',
        GRACEFUL_SHUTDOWN_TIMEOUT: '3',
      },
      mounts: [{ source: volume, target: '/vm' }],
    });
    const iso = await agent.exec(['truncate', '-s', '1M', '/vm/test.iso']);
    expect(iso.code).toBe(0);
  });

  afterAll(async () => {
    if (agent) await agent.container.stop({ remove: true, timeout: 30_000 }).catch(() => removeContainers(agent.id));
    removeVolumes(volume);
  });

  it('falls back to TCG without /dev/kvm and says so; a missing disk is a warning, not an error', async () => {
    const logs = agent.logs();
    expect(logs).toMatch(/"accelerator":"tcg","reason":"[^"]+","msg":"accelerator chosen"/);
    expect(logs).toMatch(/"disk":"\/vm\/missing.qcow2".*does not exist/);
  });

  it('custom IPMI_USER/IPMI_PASS log in over lanplus and, with IPMI_ALLOW_V15=true, over IPMI 1.5 lan', () => {
    expect(ipmitool(agent.ipmiPort, creds, ['mc', 'info']).stdout).toMatch(/^Device ID/m);
    expect(ipmitool(agent.ipmiPort, creds, ['mc', 'info'], 'lan').stdout).toMatch(/^Device ID/m);
    expect(ipmitool(agent.ipmiPort, { user: 'admin', password: 'password' }, ['mc', 'info']).code).not.toBe(0);
  });

  it('QEMU gets the resources, VNC display, CD, boot order, UEFI firmware and extra args; no disk, no NIC; DEBUG shows argv', async () => {
    expect(ipmitool(agent.ipmiPort, creds, ['chassis', 'power', 'on']).code).toBe(0);
    const pid = await waitFor('QEMU', () => agent.qemuPid().then((p) => p ?? undefined), 60_000);
    expect(pid).toBeGreaterThan(1);
    const argv = await agent.qemuArgv();
    const line = argv.join(' ');
    expect(line).toContain('-m 128 -smp 3');
    expect(line).toContain('accel=tcg');
    expect(line).toContain('-vnc 127.0.0.1:1');
    expect(line).toMatch(/media=cdrom,readonly=on,file=\/vm\/test\.iso/);
    expect(argv.find((a) => a.startsWith('ide-cd,'))).toMatch(/bootindex=10(,|$)/);
    expect(line).toContain('if=pflash');
    expect(argv[argv.indexOf('virtio-rng-pci,id=rng0') - 1]).toBe('-device');
    expect(line).not.toContain('missing.qcow2');
    expect(line).not.toContain('-netdev');
    // QEMU's VNC (5901) and serial (9003) on loopback; the agent's Redfish (443/tcp) and IPMI (623/udp).
    const tcp = await waitFor(
      'VNC listening',
      async () => {
        const ports = await listening('tcp');
        return ports.includes(5901) ? ports : undefined;
      },
      30_000,
    );
    expect(tcp).toEqual(expect.arrayContaining([443, 5901, 9003]));
    expect(await listening('udp')).toContain(623);
    // DEBUG=true: debug level, which logs QEMU's argv (the seed printed its QEMU_ARGS).
    expect(agent.logs()).toMatch(/"level":20,.*"pid":\d+,"argv":\["-name",.*"msg":"qemu started"/);
  });
});
