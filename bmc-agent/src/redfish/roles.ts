// Redfish roles and privileges derived from the IPMI privilege of a BMC user on the LAN channel.
import { type BmcUser, Privilege, type PrivilegeLevel } from '../bmc/types.ts';

export const LAN_CHANNEL = 1;

export const ROLE_IDS = ['Administrator', 'Operator', 'ReadOnly'] as const;
export type RoleId = (typeof ROLE_IDS)[number];

/** Roles an account can hold; NoAccess stands for IPMI Callback/NoAccess users, who cannot log in. */
export const ACCOUNT_ROLE_IDS = [...ROLE_IDS, 'NoAccess'] as const;
export type AccountRoleId = (typeof ACCOUNT_ROLE_IDS)[number];

export const PRIVILEGES = [
  'Login',
  'ConfigureManager',
  'ConfigureUsers',
  'ConfigureSelf',
  'ConfigureComponents',
] as const;
export type RedfishPrivilege = (typeof PRIVILEGES)[number];

export const ROLE_PRIVILEGES: Record<RoleId, readonly RedfishPrivilege[]> = {
  Administrator: ['Login', 'ConfigureManager', 'ConfigureUsers', 'ConfigureSelf', 'ConfigureComponents'],
  Operator: ['Login', 'ConfigureSelf', 'ConfigureComponents'],
  ReadOnly: ['Login', 'ConfigureSelf'],
};

export function roleForPrivilege(level: number | undefined): RoleId | undefined {
  if (level === Privilege.Administrator || level === Privilege.Oem) return 'Administrator';
  if (level === Privilege.Operator) return 'Operator';
  if (level === Privilege.User) return 'ReadOnly';
  return undefined; // Callback and NoAccess cannot log in to Redfish
}

export function privilegeForRole(role: AccountRoleId): PrivilegeLevel {
  if (role === 'Administrator') return Privilege.Administrator;
  if (role === 'Operator') return Privilege.Operator;
  if (role === 'ReadOnly') return Privilege.User;
  return Privilege.NoAccess;
}

/** The role shown for an account, whether or not it may log in. */
export function accountRole(user: BmcUser): AccountRoleId {
  return roleForPrivilege(user.channels[LAN_CHANNEL]?.privilege) ?? 'NoAccess';
}

/** The user's Redfish role, or undefined when the user may not use Redfish at all. */
export function roleOf(user: BmcUser): RoleId | undefined {
  if (!user.enabled || user.name === '') return undefined;
  return roleForPrivilege(user.channels[LAN_CHANNEL]?.privilege);
}

export function hasPrivilege(role: RoleId, privilege: RedfishPrivilege): boolean {
  return ROLE_PRIVILEGES[role].includes(privilege);
}
