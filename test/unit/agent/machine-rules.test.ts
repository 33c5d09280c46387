import { describe, expect, it } from 'vitest';
import { afterBoot, effectiveTarget, mergeOverride, overrideFromState } from '../../../bmc-agent/src/machine/boot.ts';
import { redactUrl, validateImageUrl } from '../../../bmc-agent/src/machine/media.ts';
import type { BootOverride } from '../../../bmc-agent/src/machine/types.ts';

const off: BootOverride = { target: 'None', enabled: 'Disabled', mode: 'Legacy' };

describe('boot override rules', () => {
  it('merges partial changes and refuses unknown values or properties', () => {
    expect(mergeOverride(off, { target: 'Pxe', enabled: 'Once' })).toEqual({
      target: 'Pxe',
      enabled: 'Once',
      mode: 'Legacy',
    });
    expect(mergeOverride(off, { mode: 'UEFI' })).toEqual({ ...off, mode: 'UEFI' });
    expect(() => mergeOverride(off, { target: 'Floppy' as never })).toThrow(/boot target must be one of/);
    expect(() => mergeOverride(off, { enabled: 'Always' as never })).toThrow(/enabled must be one of/);
    expect(() => mergeOverride(off, { mode: 'EFI' as never })).toThrow(/boot mode must be one of/);
    expect(() => mergeOverride(off, { extra: 1 } as never)).toThrow(/unknown boot override property extra/);
  });

  it('Once is consumed to Disabled/None; Continuous and Disabled are unchanged', () => {
    expect(afterBoot({ target: 'Cd', enabled: 'Once', mode: 'UEFI' })).toEqual({
      target: 'None',
      enabled: 'Disabled',
      mode: 'UEFI',
    });
    const continuous: BootOverride = { target: 'Hdd', enabled: 'Continuous', mode: 'Legacy' };
    expect(afterBoot(continuous)).toBe(continuous);
    expect(effectiveTarget({ target: 'Pxe', enabled: 'Disabled', mode: 'Legacy' })).toBe('None');
    expect(effectiveTarget({ target: 'Pxe', enabled: 'Once', mode: 'Legacy' })).toBe('Pxe');
  });

  it('reads stored strings back safely', () => {
    expect(overrideFromState({ target: 'Usb', enabled: 'Continuous', mode: 'UEFI' })).toEqual({
      target: 'Usb',
      enabled: 'Continuous',
      mode: 'UEFI',
    });
    expect(overrideFromState({ target: 'x', enabled: 'y', mode: 'z' })).toEqual(off);
  });
});

describe('virtual media URLs', () => {
  it('accepts http(s) only', () => {
    expect(validateImageUrl('https://images.example/ubuntu.iso').hostname).toBe('images.example');
    for (const bad of [
      '',
      'ftp://h/x.iso',
      'file:///etc/passwd',
      '/local.iso',
      'http://',
      `http://h/${'a'.repeat(2048)}`,
    ])
      expect(() => validateImageUrl(bad), bad).toThrow(expect.objectContaining({ code: 'invalid' }));
  });
  it('never logs credentials embedded in a URL', () => {
    expect(redactUrl(new URL('https://user:secret@h/x.iso'))).toBe('https://redacted@h/x.iso');
    expect(redactUrl(new URL('https://h/x.iso'))).toBe('https://h/x.iso');
  });
});
