// Where push events may go (REDFISH_EVENT_DESTINATIONS). A subscriber names any URL; from inside a cluster that
// is a server-side request forgery lever, so deployments can restrict destinations to networks and names.
// The check resolves the host once and the delivery connects to the address that was checked (no second lookup,
// so a DNS answer cannot change between the check and the connection).
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export type PolicyDecision =
  | { allowed: true /** Connect here; undefined = the host is an IP literal. */; address?: ResolvedAddress }
  | { allowed: false; reason: string };

export type Resolver = (host: string) => Promise<ResolvedAddress[]>;

const systemResolver: Resolver = async (host) =>
  (await dnsLookup(host, { all: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

/** '::ffff:10.1.2.3' → '10.1.2.3'; anything else unchanged. */
function unmapped(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m?.[1] ?? address;
}

export class DestinationPolicy {
  readonly #nets = new BlockList();
  /** Exact names, and '.example.com' for every name under example.com. */
  readonly #names: string[] = [];
  readonly #entries: readonly string[];
  readonly #resolve: Resolver;

  /** `entries` as validated by config.ts: CIDRs, IP addresses, hostnames (a leading dot = subdomains). */
  constructor(entries: readonly string[], resolve: Resolver = systemResolver) {
    this.#entries = entries;
    this.#resolve = resolve;
    for (const entry of entries) {
      const [addr = '', bits] = entry.split('/');
      const family = isIP(addr);
      if (family === 0) this.#names.push(entry.toLowerCase().replace(/\.$/, ''));
      else if (bits === undefined) this.#nets.addAddress(unmapped(addr), isIP(unmapped(addr)) === 6 ? 'ipv6' : 'ipv4');
      else this.#nets.addSubnet(addr, Number(bits), family === 6 ? 'ipv6' : 'ipv4');
    }
  }

  /** What the configuration said, for logs. */
  get entries(): readonly string[] {
    return this.#entries;
  }

  addressAllowed(address: string): boolean {
    const plain = unmapped(address);
    const family = isIP(plain);
    if (family === 0) return false;
    return this.#nets.check(plain, family === 6 ? 'ipv6' : 'ipv4');
  }

  nameAllowed(host: string): boolean {
    const name = host.toLowerCase().replace(/\.$/, '');
    return this.#names.some((n) => (n.startsWith('.') ? name.endsWith(n) && name.length > n.length : name === n));
  }

  /**
   * Decides for the host of a destination URL (URL.hostname; IPv6 in brackets is accepted). A listed name is
   * allowed whatever it resolves to; otherwise every address it resolves to must be in a listed network.
   * Resolution failures reject (a delivery failure, retried), they are not a policy decision.
   */
  async check(hostname: string): Promise<PolicyDecision> {
    const host = hostname.replace(/^\[(.*)\]$/, '$1');
    if (isIP(host) !== 0)
      return this.addressAllowed(host)
        ? { allowed: true }
        : { allowed: false, reason: `${host} is not in REDFISH_EVENT_DESTINATIONS` };
    const addresses = await this.#resolve(host);
    const first = addresses[0];
    if (!first) throw new Error(`${host} resolves to no address`);
    if (this.nameAllowed(host)) return { allowed: true, address: first };
    const outside = addresses.find((a) => !this.addressAllowed(a.address));
    if (outside)
      return {
        allowed: false,
        reason: `${host} resolves to ${outside.address}, which is not in REDFISH_EVENT_DESTINATIONS`,
      };
    return { allowed: true, address: first };
  }
}
