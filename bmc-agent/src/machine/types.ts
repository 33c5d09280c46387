// The one machine model every front end (Redfish, IPMI LAN, in-band IPMI) drives.
// A power action, a boot override or a media change has exactly one implementation: Machine.

export type PowerState = 'On' | 'Off' | 'PoweringOn' | 'PoweringOff';

export const RESET_TYPES = [
  'On',
  'ForceOff',
  'GracefulShutdown',
  'ForceRestart',
  'GracefulRestart',
  'PowerCycle',
  'Nmi',
  'PushPowerButton',
] as const;
export type ResetType = (typeof RESET_TYPES)[number];

export const BOOT_TARGETS = ['None', 'Pxe', 'Cd', 'Hdd', 'BiosSetup', 'Usb'] as const;
export type BootTarget = (typeof BOOT_TARGETS)[number];
export const BOOT_ENABLED = ['Disabled', 'Once', 'Continuous'] as const;
export type BootEnabled = (typeof BOOT_ENABLED)[number];
export const BOOT_MODES = ['Legacy', 'UEFI'] as const;
export type BootMode = (typeof BOOT_MODES)[number];

export interface BootOverride {
  target: BootTarget;
  enabled: BootEnabled;
  mode: BootMode;
}

export type MediaId = 'CD1' | 'USB1';
export type MediaStatus = 'Ejected' | 'Inserting' | 'Inserted' | 'Failed';
export interface MediaState {
  id: MediaId;
  /** Image URL as the client gave it; null when ejected. */
  image: string | null;
  inserted: boolean;
  writeProtected: boolean;
  status: MediaStatus;
  /** Why the last insert failed (never Inserted=true after a failure). */
  error: string | null;
}

/** Why the VM last started, for IPMI Get System Restart Cause. */
export type RestartCause =
  | 'unknown'
  | 'chassis-control'
  | 'power-button'
  | 'power-restore'
  | 'reset-button'
  | 'watchdog';

export interface MachineInfo {
  /** SMBIOS system UUID given to QEMU; also Redfish UUID and IPMI System GUID. */
  uuid: string;
  cpus: number;
  memoryMiB: number;
  /** 'managed' starts and supervises QEMU; 'attach' uses an existing QMP socket. */
  mode: 'managed' | 'attach';
  accelerator: 'kvm' | 'tcg' | 'unknown';
}

export interface MachineEvents {
  power: [state: PowerState];
  boot: [override: BootOverride];
  media: [media: MediaState];
}

/** Thrown by Machine methods for requests that are valid in shape but cannot be done now. */
export class MachineError extends Error {
  readonly code: 'invalid' | 'conflict' | 'unavailable' | 'media-failed';
  constructor(code: MachineError['code'], message: string) {
    super(message);
    this.name = 'MachineError';
    this.code = code;
  }
}

export interface Machine {
  readonly info: MachineInfo;
  powerState(): PowerState;
  /** Resolves when the action has been carried out (or started, for graceful ones). */
  reset(type: ResetType): Promise<void>;
  bootOverride(): BootOverride;
  /** Applied at the next boot; Once is cleared after that boot. */
  setBootOverride(change: Partial<BootOverride>): Promise<BootOverride>;
  media(): MediaState[];
  insertMedia(id: MediaId, imageUrl: string, opts?: { writeProtected?: boolean }): Promise<MediaState>;
  ejectMedia(id: MediaId): Promise<MediaState>;
  restartCause(): RestartCause;
  on<E extends keyof MachineEvents>(event: E, listener: (...args: MachineEvents[E]) => void): this;
  off<E extends keyof MachineEvents>(event: E, listener: (...args: MachineEvents[E]) => void): this;
}
