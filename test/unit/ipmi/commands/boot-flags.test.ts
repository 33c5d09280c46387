import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BOOT_DEVICE_TARGETS,
  decodeBootFlags,
  encodeBootFlags,
} from '../../../../bmc-agent/src/ipmi/commands/boot-options.ts';
import { BOOT_MODES, type BootOverride } from '../../../../bmc-agent/src/machine/types.ts';

const activeOverride = fc.record<BootOverride>({
  target: fc.constantFrom('Pxe', 'Cd', 'Hdd', 'BiosSetup', 'Usb'),
  enabled: fc.constantFrom('Once', 'Continuous'),
  mode: fc.constantFrom(...BOOT_MODES),
});

describe('boot flags (System Boot Options parameter 5, table 28-14)', () => {
  it('an active override encodes to flags that decode back to it, whatever raw bytes were stored', () => {
    fc.assert(
      fc.property(activeOverride, fc.option(fc.uint8Array({ minLength: 5, maxLength: 5 })), (override, raw) => {
        const flags = encodeBootFlags(override, raw ?? undefined);
        expect(flags[0]! & 0x80).toBe(0x80);
        expect(decodeBootFlags(Uint8Array.from(flags))).toEqual(override);
      }),
    );
  });

  it('no override encodes without the valid bit and keeps the bits the client wrote in bytes 2-5', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 5, maxLength: 5 }), (raw) => {
        const flags = encodeBootFlags({ target: 'None', enabled: 'Disabled', mode: 'Legacy' }, raw);
        expect(flags[0]! & 0xa0).toBe(0);
        expect(flags[1]! & 0xc3).toBe(raw[1]! & 0xc3);
        expect(flags.slice(2)).toEqual(Array.from(raw.slice(2)));
      }),
    );
  });

  it('decoding only ever asks for a defined target, or refuses a reserved selector', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 5, maxLength: 5 }), (data) => {
        const device = (data[1]! >> 2) & 0x0f;
        if (BOOT_DEVICE_TARGETS[device] === undefined) expect(() => decodeBootFlags(data)).toThrow(/reserved/);
        else expect(['None', 'Pxe', 'Cd', 'Hdd', 'BiosSetup', 'Usb']).toContain(decodeBootFlags(data).target);
      }),
    );
  });
});
