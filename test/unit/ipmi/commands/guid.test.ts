import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deviceUuid, smbiosGuidBytes, uuidFromSmbiosGuid } from '../../../../bmc-agent/src/ipmi/commands/guid.ts';

describe('GUID byte orders', () => {
  it('SMBIOS order swaps time_low, time_mid and time_hi and keeps clock sequence and node (SMBIOS 2.6 7.2.1)', () => {
    expect(smbiosGuidBytes('00112233-4455-6677-8899-aabbccddeeff')).toEqual([
      0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
    ]);
  });

  it('round-trips every UUID', () => {
    fc.assert(
      fc.property(fc.uuid(), (uuid) => {
        expect(uuidFromSmbiosGuid(Uint8Array.from(smbiosGuidBytes(uuid)))).toBe(uuid.toLowerCase());
      }),
    );
  });

  it('refuses what is not a UUID', () => {
    expect(() => smbiosGuidBytes('not-a-uuid')).toThrow(/not a UUID/);
  });

  it('derives a stable version-5 device GUID per system UUID', () => {
    const a = deviceUuid('2d0e5f8c-1b7a-4c3e-9f21-6a5b4c3d2e1f');
    expect(deviceUuid('2D0E5F8C-1B7A-4C3E-9F21-6A5B4C3D2E1F')).toBe(a);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(deviceUuid('2d0e5f8c-1b7a-4c3e-9f21-6a5b4c3d2e20')).not.toBe(a);
  });
});
