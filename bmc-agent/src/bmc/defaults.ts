// The BMC state a fresh STATE_DIR starts from, and the rules that re-apply configuration at every start.
import { type BmcState, type BmcUser, type PowerRestorePolicy, Privilege } from './types.ts';

/** What configuration contributes to the BMC state. */
export interface BmcSeed {
  /** User 2 (the configured Administrator), from IPMI_USER / IPMI_PASS. */
  adminUser: string;
  adminPassword: string;
  /** Advertised BMC address (IPMI LAN parameter 3, Redfish EthernetInterface). */
  address: string;
  macAddress: string;
  /** Policy for a fresh state file only; afterwards the stored policy (set over IPMI or Redfish) wins. */
  powerRestorePolicy: PowerRestorePolicy;
  /** Firmware of a fresh state file (VM_BOOT_MODE); afterwards the stored boot mode persists. Default Legacy. */
  bootMode?: 'Legacy' | 'UEFI';
}

export const LAN_CHANNEL = 1;
export const MAX_USERS = 15;
/** IPMI 2.0 limits: user names are 16 bytes, passwords 20 bytes. */
export const MAX_USER_NAME_BYTES = 16;
export const MAX_PASSWORD_BYTES = 20;

function adminUser(seed: BmcSeed): BmcUser {
  return {
    id: 2,
    name: seed.adminUser,
    password: seed.adminPassword,
    enabled: true,
    channels: {
      [LAN_CHANNEL]: { privilege: Privilege.Administrator, callin: true, linkAuth: true, ipmiMessaging: true },
    },
  };
}

export function defaultBmcState(seed: BmcSeed): BmcState {
  return {
    version: 1,
    users: [
      // User 1 is IPMI's anonymous (null name) user: present but disabled.
      {
        id: 1,
        name: '',
        password: '',
        enabled: false,
        channels: {
          [LAN_CHANNEL]: { privilege: Privilege.NoAccess, callin: false, linkAuth: false, ipmiMessaging: false },
        },
      },
      adminUser(seed),
    ],
    channels: {
      [LAN_CHANNEL]: {
        accessMode: 2, // always available
        userLevelAuth: true,
        perMessageAuth: true,
        alerting: false,
        privilegeLimit: Privilege.Administrator,
      },
    },
    lan: {
      ipSource: 'static',
      ipAddress: seed.address,
      netmask: '255.255.255.0',
      gateway: '0.0.0.0',
      macAddress: seed.macAddress,
      vlanId: 0,
      // 16 cipher suite entries (LAN parameter 24), each allowed up to Administrator.
      cipherSuitePrivileges: Array.from({ length: 16 }, () => Privilege.Administrator),
      // Callback, User, Operator, Administrator, OEM: MD5 only (bit 2); used only when IPMI 1.5 is allowed.
      authTypeEnables: [0x04, 0x04, 0x04, 0x04, 0x00],
    },
    sol: {
      enabled: true,
      privilege: Privilege.User,
      forceEncryption: true,
      forceAuthentication: true,
      characterAccumulateMs: 50,
      characterSendThreshold: 96,
      retryCount: 7,
      retryIntervalMs: 500,
      baudRate: 0x0a, // 115200
    },
    powerRestorePolicy: seed.powerRestorePolicy,
    lastPowerState: 'Off',
    bootParams: {},
    boot: { target: 'None', enabled: 'Disabled', mode: seed.bootMode ?? 'Legacy' },
  };
}

/**
 * Rules re-applied at every start, so the environment stays the source of truth for them:
 * user 2 takes IPMI_USER / IPMI_PASS, is enabled and Administrator on the LAN channel;
 * the advertised address and MAC follow BMC_ADDRESS / BMC_MAC.
 * Other users, channel settings, SOL, boot options and the restore policy are left as stored.
 */
export function applySeed(state: BmcState, seed: BmcSeed): void {
  const configured = adminUser(seed);
  const existing = state.users.find((u) => u.id === 2);
  if (existing) {
    existing.name = configured.name;
    existing.password = configured.password;
    existing.enabled = true;
    existing.channels[LAN_CHANNEL] = configured.channels[LAN_CHANNEL]!;
  } else {
    state.users.push(configured);
    state.users.sort((a, b) => a.id - b.id);
  }
  // A user other than 2 holding the same name would make name lookups ambiguous: user 2 wins, the other is disabled.
  for (const user of state.users) {
    if (user.id !== 2 && user.name === configured.name && user.name !== '') user.enabled = false;
  }
  state.lan.ipAddress = seed.address;
  state.lan.macAddress = seed.macAddress;
}
