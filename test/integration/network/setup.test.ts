import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetworkSetupError, setupVmNetworks } from '../../../bmc-agent/src/network/setup.ts';
import { requireCommand } from '../../support/require.ts';

// VM_NETWORKS set-up against the real kernel, inside a network namespace made for this file (nothing on the host
// changes). Interfaces appear as veth pairs, like containerlab's links.

const ns = `qbmc-net-${randomBytes(3).toString('hex')}`;
const ipn = (...args: string[]) => execFileSync('ip', ['-n', ns, ...args], { encoding: 'utf8' });

interface LinkInfo {
  ifname: string;
  flags: string[];
  master?: string;
  linkinfo?: { info_kind?: string };
  addr_info?: Array<{ family: string; local: string }>;
}

function link(name: string): LinkInfo {
  const [info] = JSON.parse(ipn('-j', '-d', 'addr', 'show', 'dev', name)) as LinkInfo[];
  if (!info) throw new Error(`no interface ${name} in ${ns}`);
  return info;
}

describe('VM_NETWORKS set-up (network namespace)', () => {
  beforeAll(() => {
    requireCommand('ip', 'apt-get install -y iproute2');
    execFileSync('ip', ['netns', 'add', ns]);
    ipn('link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth1-peer');
    ipn('addr', 'add', '192.0.2.10/24', 'dev', 'eth1');
  });

  afterAll(() => {
    execFileSync('ip', ['netns', 'del', ns]);
  });

  it('bridges an existing interface to a new tap, flushes its address and brings all up', async () => {
    expect(link('eth1').addr_info?.some((a) => a.local === '192.0.2.10')).toBe(true);
    const result = await setupVmNetworks(['eth1', 'user'], { netns: ns, waitMs: 5_000 });
    expect(result.backends).toEqual(['tap0', 'user']);
    const br = link('br0');
    expect(br.linkinfo?.info_kind).toBe('bridge');
    expect(br.flags).toContain('UP');
    const tap = link('tap0');
    expect(tap.linkinfo?.info_kind).toBe('tun');
    expect(tap.master).toBe('br0');
    expect(tap.flags).toContain('UP');
    const eth = link('eth1');
    expect(eth.master).toBe('br0');
    expect(eth.flags).toContain('UP');
    expect(eth.addr_info?.filter((a) => a.family === 'inet')).toEqual([]);
  });

  it('is idempotent: a second run (agent restart) keeps the same bridge and tap', async () => {
    const ifindex = (name: string) =>
      (JSON.parse(ipn('-j', 'link', 'show', 'dev', name)) as Array<{ ifindex: number }>)[0]?.ifindex;
    const before = [ifindex('br0'), ifindex('tap0')];
    const result = await setupVmNetworks(['eth1'], { netns: ns, waitMs: 5_000 });
    expect(result.backends).toEqual(['tap0']);
    expect([ifindex('br0'), ifindex('tap0')]).toEqual(before);
    expect(link('tap0').master).toBe('br0');
    expect(link('eth1').master).toBe('br0');
  });

  it('waits for an interface that appears later (containerlab adds links after start)', async () => {
    const setup = setupVmNetworks(['eth3'], {
      netns: ns,
      waitMs: 60_000,
      pollMs: 100,
      tapPrefix: 'wtap',
      bridgePrefix: 'wbr',
    });
    const created = new Promise<void>((resolve) => {
      setTimeout(() => {
        ipn('link', 'add', 'eth3', 'type', 'veth', 'peer', 'name', 'eth3-peer');
        resolve();
      }, 1_000);
    });
    const [result] = await Promise.all([setup, created]);
    expect(result.backends).toEqual(['wtap0']);
    expect(link('eth3').master).toBe('wbr0');
    expect(link('wtap0').master).toBe('wbr0');
  });

  it('fails with one clear line when an interface never appears', async () => {
    const err = await setupVmNetworks(['eth9'], { netns: ns, waitMs: 500, pollMs: 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkSetupError);
    expect((err as Error).message).toBe('VM_NETWORKS: interface eth9 did not appear within 0.5 s');
    expect(() => link('br0')).not.toThrow();
    expect(ipn('-o', 'link', 'show')).not.toMatch(/tap9|br9/);
  });
});
