// REDFISH_EVENT_DESTINATIONS: which push-event destinations are allowed, with the system resolver on loopback names.
import { describe, expect, it } from 'vitest';
import { DestinationPolicy } from '../../../bmc-agent/src/redfish/destination-policy.ts';

describe('event destination policy', () => {
  const policy = new DestinationPolicy(['127.0.0.0/8', '::1', '10.20.0.0/16', 'fd00::/8', '.bmc.test', 'events.test']);

  it('matches addresses against CIDRs and single addresses, IPv4-mapped IPv6 as IPv4', () => {
    for (const allowed of ['127.0.0.1', '127.255.0.9', '::1', '10.20.3.4', 'fd12::7', '::ffff:10.20.0.1'])
      expect(policy.addressAllowed(allowed), allowed).toBe(true);
    for (const refused of ['192.168.1.50', '10.21.0.1', '::2', 'fe80::1', '169.254.169.254', '::ffff:192.168.1.50'])
      expect(policy.addressAllowed(refused), refused).toBe(false);
  });

  it('matches names exactly, or every name under a leading-dot entry, case-insensitively', () => {
    expect(policy.nameAllowed('events.test')).toBe(true);
    expect(policy.nameAllowed('EVENTS.test.')).toBe(true);
    expect(policy.nameAllowed('a.events.test')).toBe(false);
    expect(policy.nameAllowed('maas.bmc.test')).toBe(true);
    expect(policy.nameAllowed('bmc.test')).toBe(false);
    expect(policy.nameAllowed('evilbmc.test')).toBe(false);
  });

  it('decides IP literals without resolving, bracketed IPv6 included', async () => {
    expect(await policy.check('127.0.0.1')).toEqual({ allowed: true });
    expect(await policy.check('[::1]')).toEqual({ allowed: true });
    expect(await policy.check('192.168.1.50')).toEqual({
      allowed: false,
      reason: '192.168.1.50 is not in REDFISH_EVENT_DESTINATIONS',
    });
    expect(await policy.check('[fe80::1]')).toMatchObject({ allowed: false });
  });

  it('resolves names: allowed when every address is in a listed network, and says where to connect', async () => {
    const loopbackOnly = await policy.check('localhost');
    expect(loopbackOnly.allowed).toBe(true);
    if (loopbackOnly.allowed) expect(['127.0.0.1', '::1']).toContain(loopbackOnly.address?.address);
    const elsewhere = new DestinationPolicy(['10.0.0.0/8']);
    const refused = await elsewhere.check('localhost');
    expect(refused.allowed).toBe(false);
    if (!refused.allowed) expect(refused.reason).toMatch(/^localhost resolves to (127\.0\.0\.1|::1), which is not in/);
    // A listed name is allowed whatever it resolves to.
    expect((await new DestinationPolicy(['localhost']).check('localhost')).allowed).toBe(true);
  });

  it('a name that does not resolve is a delivery failure, not a policy decision', async () => {
    await expect(new DestinationPolicy(['10.0.0.0/8']).check('no-such-host.invalid')).rejects.toThrow();
  });
});
