import { GenericContainer, type StartedTestContainer, Wait } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { neverPull } from '../support/docker.ts';
import { freePort } from '../support/ports.ts';
import {
  AGENT_IMAGE,
  buildImage,
  type Credentials,
  docker,
  ipmiAnswers,
  ipmitool,
  removeContainers,
  requireClients,
  runCommand,
  uniqueName,
  waitFor,
} from './support.ts';

// VM_NETWORKS the containerlab way: the container starts with only its default interface, the agent waits for
// eth1, which appears when a second Docker network is connected after start; the agent bridges it to a tap and
// the VM's NIC sits on that tap.

const creds: Credentials = { user: 'admin', password: 'net-test-pass' };
const network = uniqueName('net');
let container: StartedTestContainer | undefined;
let ipmiPort = 0;

async function inContainer(cmd: string[]): Promise<string> {
  const r = await container!.exec(cmd);
  if (r.exitCode !== 0) throw new Error(`${cmd.join(' ')} exited ${r.exitCode}: ${r.stderr}`);
  return r.stdout;
}

interface Link {
  ifname: string;
  master?: string;
  flags: string[];
  linkinfo?: { info_kind?: string };
  addr_info?: Array<{ family: string }>;
}

describe('agent image: VM_NETWORKS', () => {
  beforeAll(async () => {
    requireClients();
    buildImage('Dockerfile.agent', AGENT_IMAGE);
    docker(['network', 'create', '--internal', network]);
    ipmiPort = await freePort('udp');
    const starting = new GenericContainer(AGENT_IMAGE)
      .withPullPolicy(neverPull)
      .withName(uniqueName('agent-net'))
      .withEnvironment({
        ENABLE_KVM: 'false',
        IPMI_PASS: creds.password,
        VM_NETWORKS: 'eth1',
        VM_MEMORY: '128',
        GRACEFUL_SHUTDOWN_TIMEOUT: '3',
      })
      .withAddedCapabilities('NET_ADMIN')
      .withExposedPorts({ container: 623, host: ipmiPort, protocol: 'udp' })
      .withWaitStrategy(Wait.forLogMessage(/"msg":"waiting for interface"/))
      .withStartupTimeout(60_000)
      .start();
    container = await starting.catch((err: Error) => {
      throw new Error(
        `the agent never logged "waiting for interface" for VM_NETWORKS=eth1 (${err.message}); ` +
          'does its start-up call setupVmNetworks (bmc-agent/src/network/setup.ts) before the machine is created?',
      );
    });
  });

  afterAll(async () => {
    if (container)
      await container.stop({ remove: true, timeout: 20_000 }).catch(() => removeContainers(container!.getId()));
    runCommand('docker', ['network', 'rm', network]);
  });

  it('waits for eth1, bridges it to tap0 (no IP left on it) and gives the VM a NIC on tap0', async () => {
    // Connecting the network while the agent waits is what containerlab does.
    docker(['network', 'connect', network, container!.getId()]);
    await ipmiAnswers(ipmiPort, creds);

    const links = JSON.parse(await inContainer(['ip', '-j', '-d', 'addr', 'show'])) as Link[];
    const byName = new Map(links.map((l) => [l.ifname, l]));
    expect(byName.get('br0')?.linkinfo?.info_kind).toBe('bridge');
    expect(byName.get('tap0')?.linkinfo?.info_kind).toBe('tun');
    expect(byName.get('tap0')?.master).toBe('br0');
    expect(byName.get('eth1')?.master).toBe('br0');
    expect(byName.get('eth1')?.addr_info?.filter((a) => a.family === 'inet')).toEqual([]);
    expect(byName.get('eth0')?.master).toBeUndefined();

    expect(ipmitool(ipmiPort, creds, ['chassis', 'power', 'on']).code).toBe(0);
    const argv = await waitFor(
      'QEMU with a tap NIC',
      async () => {
        const r = await container!.exec(['sh', '-c', 'cat /proc/$(cat /var/lib/qemu-bmc/qemu.pid)/cmdline']);
        return r.exitCode === 0 ? r.stdout.split('\0') : undefined;
      },
      60_000,
    );
    expect(argv.find((a) => a.startsWith('tap,'))).toMatch(/ifname=tap0,script=no,downscript=no/);
    expect(argv.find((a) => a.startsWith('virtio-net-pci,'))).toMatch(/mac=52:54:00:/);
    // QEMU holds the tap open: the carrier comes up.
    const tap = JSON.parse(await inContainer(['ip', '-j', 'link', 'show', 'dev', 'tap0'])) as Link[];
    expect(tap[0]?.flags).toContain('LOWER_UP');
  });
});
