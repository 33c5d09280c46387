// Whether the VM is powered on when the agent starts.
import type { PowerRestorePolicy } from './types.ts';

/**
 * POWER_ON_AT_START only chooses the policy of a fresh state file (true → always-on, otherwise previous);
 * afterwards the stored policy, which IPMI "chassis policy" can change, decides.
 */
export function initialRestorePolicy(powerOnAtStart: boolean): PowerRestorePolicy {
  return powerOnAtStart ? 'always-on' : 'previous';
}

export function shouldPowerOnAtStart(policy: PowerRestorePolicy, lastPowerState: 'On' | 'Off'): boolean {
  if (policy === 'always-on') return true;
  if (policy === 'previous') return lastPowerState === 'On';
  return false;
}
