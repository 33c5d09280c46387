// BMC state shared live by in-band IPMI, IPMI LAN and Redfish (AccountService), persisted atomically.

/** IPMI privilege levels (IPMI 2.0 table 6-1). 0x0F = no access. */
export const Privilege = { Callback: 1, User: 2, Operator: 3, Administrator: 4, Oem: 5, NoAccess: 0x0f } as const;
export type PrivilegeLevel = (typeof Privilege)[keyof typeof Privilege];

export interface ChannelUserAccess {
  /** Privilege limit for this user on this channel. */
  privilege: PrivilegeLevel;
  callin: boolean;
  linkAuth: boolean;
  ipmiMessaging: boolean;
}

export interface BmcUser {
  /** 1..15; user 1 is the anonymous (null name) user per IPMI. */
  id: number;
  name: string;
  /** Up to 20 bytes (IPMI 2.0). Stored as given; compared in constant time. */
  password: string;
  enabled: boolean;
  /** Keyed by channel number (1 = LAN). */
  channels: Record<number, ChannelUserAccess>;
}

export interface ChannelAccess {
  /** 0 disabled, 1 pre-boot only, 2 always available, 3 shared. */
  accessMode: number;
  userLevelAuth: boolean;
  perMessageAuth: boolean;
  alerting: boolean;
  privilegeLimit: PrivilegeLevel;
}

export interface LanConfig {
  ipSource: 'static' | 'dhcp';
  /** Advertised BMC address (the operator passes the Service IP). */
  ipAddress: string;
  netmask: string;
  gateway: string;
  macAddress: string;
  vlanId: number; // 0 = disabled
  /** Per cipher-suite-entry maximum privilege (LAN parameter 24), index = entry. */
  cipherSuitePrivileges: PrivilegeLevel[];
  authTypeEnables: number[]; // 5 bytes, LAN parameter 2
}

export interface SolConfig {
  enabled: boolean;
  privilege: PrivilegeLevel;
  forceEncryption: boolean;
  forceAuthentication: boolean;
  characterAccumulateMs: number;
  characterSendThreshold: number;
  retryCount: number;
  retryIntervalMs: number;
  baudRate: number; // IPMI encoding
}

export type PowerRestorePolicy = 'always-off' | 'previous' | 'always-on';

export interface BmcState {
  version: 1;
  users: BmcUser[];
  channels: Record<number, ChannelAccess>;
  lan: LanConfig;
  sol: SolConfig;
  powerRestorePolicy: PowerRestorePolicy;
  /** Last power state the BMC saw, for the 'previous' restore policy. */
  lastPowerState: 'On' | 'Off';
  /** Raw System Boot Options parameters kept for round-tripping (IPMI param number → bytes, hex). */
  bootParams: Record<number, string>;
  /** Persistent boot override; the Machine reads and writes it through the store. */
  boot: { target: string; enabled: string; mode: string };
}

export interface BmcStoreEvents {
  change: [state: Readonly<BmcState>];
}

/** The live, persisted BMC state. Implemented in bmc/store.ts. */
export interface BmcStore {
  state(): Readonly<BmcState>;
  /**
   * Applies a change to a copy, validates it, writes it atomically (temp file + fsync + rename), then publishes it.
   * Throws (and changes nothing) when the mutator throws or the result is invalid.
   */
  update(mutator: (draft: BmcState) => void): Promise<Readonly<BmcState>>;
  userByName(name: string): BmcUser | undefined;
  userById(id: number): BmcUser | undefined;
  /** Constant-time password check; false for disabled users. */
  checkPassword(name: string, password: string): BmcUser | undefined;
  on(event: 'change', listener: (state: Readonly<BmcState>) => void): this;
  off(event: 'change', listener: (state: Readonly<BmcState>) => void): this;
}
