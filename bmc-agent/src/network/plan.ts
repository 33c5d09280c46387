// VM_NETWORKS → TAP/bridge plan (pure). Each host interface named in VM_NETWORKS becomes one VM NIC:
//   host interface ──┐
//                    ├── bridge br<i> (L2 only; the host interface loses its IP addresses)
//   tap<i> (QEMU) ───┘
// i is the entry's position in VM_NETWORKS, so NIC i of the VM always sits on tap<i> (the seed's naming).
// The word "user" keeps QEMU user-mode networking for that NIC and needs no host setup.

export interface BridgeLink {
  /** Interface that already exists (or will appear) in the container, e.g. eth1 from containerlab. */
  hostInterface: string;
  bridge: string;
  tap: string;
}

export interface NetworkPlan {
  /** Host set-up work, one entry per host interface. */
  links: BridgeLink[];
  /** One per VM_NETWORKS entry, in order: the tap name, or "user". This is what QEMU's -netdev gets. */
  backends: string[];
}

export interface PlanOptions {
  tapPrefix?: string;
  bridgePrefix?: string;
}

/** Linux interface names: 1..15 bytes, no '/', ':' or whitespace. */
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

export class NetworkPlanError extends Error {
  constructor(message: string) {
    super(`VM_NETWORKS: ${message}`);
    this.name = 'NetworkPlanError';
  }
}

export function planVmNetworks(networks: readonly string[], options: PlanOptions = {}): NetworkPlan {
  const tapPrefix = options.tapPrefix ?? 'tap';
  const bridgePrefix = options.bridgePrefix ?? 'br';
  const links: BridgeLink[] = [];
  const backends: string[] = [];
  const seen = new Set<string>();
  networks.forEach((name, i) => {
    if (name === 'user') {
      backends.push('user');
      return;
    }
    if (!IFNAME.test(name)) throw new NetworkPlanError(`${JSON.stringify(name)} is not an interface name`);
    if (seen.has(name)) throw new NetworkPlanError(`${name} is listed twice`);
    seen.add(name);
    const link = { hostInterface: name, bridge: `${bridgePrefix}${i}`, tap: `${tapPrefix}${i}` };
    if (!IFNAME.test(link.bridge) || !IFNAME.test(link.tap))
      throw new NetworkPlanError(`generated names ${link.bridge}/${link.tap} are not valid interface names`);
    links.push(link);
    backends.push(link.tap);
  });
  // A host interface called like a generated one (say eth-less setups with "tap0") would be enslaved to itself.
  const generated = new Set(links.flatMap((l) => [l.bridge, l.tap]));
  for (const l of links)
    if (generated.has(l.hostInterface))
      throw new NetworkPlanError(`${l.hostInterface} collides with a generated bridge/tap name; rename the interface`);
  return { links, backends };
}

/** What already exists, so a second run (agent restart in the same network namespace) changes nothing. */
export interface LinkState {
  bridgeExists: boolean;
  tapExists: boolean;
}

/** `ip` argument lists that bring one link to its wanted state; every command is idempotent given `state`. */
export function linkCommands(link: BridgeLink, state: LinkState): string[][] {
  const { hostInterface: host, bridge, tap } = link;
  const cmds: string[][] = [];
  if (!state.bridgeExists) cmds.push(['link', 'add', 'name', bridge, 'type', 'bridge']);
  if (!state.tapExists) cmds.push(['tuntap', 'add', 'dev', tap, 'mode', 'tap']);
  cmds.push(
    ['link', 'set', 'dev', tap, 'master', bridge],
    ['link', 'set', 'dev', host, 'master', bridge],
    // L2 only: the bridge carries the VM's traffic; an address left on the host interface would steal it.
    ['addr', 'flush', 'dev', host],
    ['link', 'set', 'dev', host, 'up'],
    ['link', 'set', 'dev', tap, 'up'],
    ['link', 'set', 'dev', bridge, 'up'],
  );
  return cmds;
}
