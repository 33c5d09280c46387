// Privilege negotiation for RMCP+: what a session may be granted given the request, the user, the channel and the suite.
import { type BmcState, type BmcUser, Privilege, type PrivilegeLevel } from '../../bmc/types.ts';
import { Channel } from '../types.ts';

export const NAME_ONLY_LOOKUP = 0x10;

export function isPrivilegeLevel(value: number): value is PrivilegeLevel {
  return value >= Privilege.Callback && value <= Privilege.Oem;
}

/** The channel's own limit; a disabled channel allows nothing. */
export function channelLimit(state: Readonly<BmcState>, channel: number = Channel.Lan): PrivilegeLevel | undefined {
  const access = state.channels[channel];
  if (!access) return Privilege.Administrator;
  if (access.accessMode === 0) return undefined;
  return access.privilegeLimit;
}

/** LAN parameter 24: the maximum privilege for a cipher suite entry (Administrator when unset). */
export function suiteLimit(state: Readonly<BmcState>, suiteIndex: number): PrivilegeLevel {
  const level = state.lan.cipherSuitePrivileges[suiteIndex];
  return level === undefined || level === Privilege.NoAccess || !isPrivilegeLevel(level)
    ? Privilege.Administrator
    : level;
}

/** The user's limit on a channel, or undefined when the user may not use IPMI messaging on it. */
export function userLimit(user: BmcUser, channel: number = Channel.Lan): PrivilegeLevel | undefined {
  const access = user.channels[channel];
  if (!access?.ipmiMessaging || !isPrivilegeLevel(access.privilege)) return undefined;
  return access.privilege;
}

export function minPrivilege(...levels: PrivilegeLevel[]): PrivilegeLevel {
  return Math.min(...levels) as PrivilegeLevel;
}
