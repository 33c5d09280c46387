// Boot override rules, independent of QEMU: validation of a change and what a boot consumes.
import {
  BOOT_ENABLED,
  BOOT_MODES,
  BOOT_TARGETS,
  type BootEnabled,
  type BootMode,
  type BootOverride,
  type BootTarget,
  MachineError,
} from './types.ts';

/** Reads the stored override (strings in BmcState) back into the typed form; unknown values fall back safely. */
export function overrideFromState(boot: { target: string; enabled: string; mode: string }): BootOverride {
  return {
    target: (BOOT_TARGETS as readonly string[]).includes(boot.target) ? (boot.target as BootTarget) : 'None',
    enabled: (BOOT_ENABLED as readonly string[]).includes(boot.enabled) ? (boot.enabled as BootEnabled) : 'Disabled',
    mode: (BOOT_MODES as readonly string[]).includes(boot.mode) ? (boot.mode as BootMode) : 'Legacy',
  };
}

/** Merges a partial change into the current override; throws MachineError('invalid') for unknown values. */
export function mergeOverride(current: BootOverride, change: Partial<BootOverride>): BootOverride {
  for (const key of Object.keys(change)) {
    if (key !== 'target' && key !== 'enabled' && key !== 'mode')
      throw new MachineError('invalid', `unknown boot override property ${key}`);
  }
  if (change.target !== undefined && !BOOT_TARGETS.includes(change.target))
    throw new MachineError('invalid', `boot target must be one of ${BOOT_TARGETS.join(', ')}`);
  if (change.enabled !== undefined && !BOOT_ENABLED.includes(change.enabled))
    throw new MachineError('invalid', `boot override enabled must be one of ${BOOT_ENABLED.join(', ')}`);
  if (change.mode !== undefined && !BOOT_MODES.includes(change.mode))
    throw new MachineError('invalid', `boot mode must be one of ${BOOT_MODES.join(', ')}`);
  return { ...current, ...change };
}

/** The override in force for the next boot: the target when Once/Continuous, else None. */
export function effectiveTarget(o: BootOverride): BootTarget {
  return o.enabled === 'Disabled' ? 'None' : o.target;
}

/** After a boot that used the override: Once becomes Disabled with target None (as the seed did), Continuous stays. */
export function afterBoot(o: BootOverride): BootOverride {
  return o.enabled === 'Once' ? { ...o, enabled: 'Disabled', target: 'None' } : o;
}
