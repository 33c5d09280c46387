import { describe, expect, it } from 'vitest';
import { linkCommands, NetworkPlanError, planVmNetworks } from '../../../bmc-agent/src/network/plan.ts';

describe('planVmNetworks', () => {
  it('gives entry i bridge br<i> and tap<i>, and keeps "user" as a QEMU backend without host work', () => {
    const plan = planVmNetworks(['eth1', 'user', 'eth2']);
    expect(plan.backends).toEqual(['tap0', 'user', 'tap2']);
    expect(plan.links).toEqual([
      { hostInterface: 'eth1', bridge: 'br0', tap: 'tap0' },
      { hostInterface: 'eth2', bridge: 'br2', tap: 'tap2' },
    ]);
  });

  it('plans nothing for an empty list', () => {
    expect(planVmNetworks([])).toEqual({ links: [], backends: [] });
  });

  it('honours name prefixes', () => {
    expect(planVmNetworks(['eth1'], { tapPrefix: 'vmtap', bridgePrefix: 'vmbr' }).links).toEqual([
      { hostInterface: 'eth1', bridge: 'vmbr0', tap: 'vmtap0' },
    ]);
  });

  it('refuses duplicates, bad names and names that collide with generated ones', () => {
    expect(() => planVmNetworks(['eth1', 'eth1'])).toThrow(/VM_NETWORKS: eth1 is listed twice/);
    expect(() => planVmNetworks(['eth 1'])).toThrow(NetworkPlanError);
    expect(() => planVmNetworks(['a-very-long-interface'])).toThrow(/not an interface name/);
    expect(() => planVmNetworks(['eth1', 'tap0'])).toThrow(/tap0 collides/);
    expect(() => planVmNetworks(['br0'])).toThrow(/br0 collides/);
    expect(() => planVmNetworks(['eth1'], { tapPrefix: 'x'.repeat(15) })).toThrow(/not valid interface names/);
  });
});

describe('linkCommands', () => {
  const link = { hostInterface: 'eth1', bridge: 'br0', tap: 'tap0' };

  it('creates bridge and tap, enslaves both, flushes the host address and brings all up', () => {
    expect(linkCommands(link, { bridgeExists: false, tapExists: false })).toEqual([
      ['link', 'add', 'name', 'br0', 'type', 'bridge'],
      ['tuntap', 'add', 'dev', 'tap0', 'mode', 'tap'],
      ['link', 'set', 'dev', 'tap0', 'master', 'br0'],
      ['link', 'set', 'dev', 'eth1', 'master', 'br0'],
      ['addr', 'flush', 'dev', 'eth1'],
      ['link', 'set', 'dev', 'eth1', 'up'],
      ['link', 'set', 'dev', 'tap0', 'up'],
      ['link', 'set', 'dev', 'br0', 'up'],
    ]);
  });

  it('does not create what exists (agent restart in the same namespace)', () => {
    const cmds = linkCommands(link, { bridgeExists: true, tapExists: true });
    expect(cmds.some((c) => c.includes('add'))).toBe(false);
    expect(cmds).toHaveLength(6);
    expect(linkCommands(link, { bridgeExists: true, tapExists: false })[0]).toEqual([
      'tuntap',
      'add',
      'dev',
      'tap0',
      'mode',
      'tap',
    ]);
  });
});
