// The contract between IPMI transports (LAN/RMCP+, in-band KCS via ipmi-bmc-extern) and the one command table.
import type { BmcStore, PrivilegeLevel } from '../bmc/types.ts';
import type { Machine } from '../machine/types.ts';

/** Channel numbers as the BMC reports them. */
export const Channel = { Lan: 1, SystemInterface: 0x0f } as const;

export interface IpmiRequest {
  netFn: number; // request netFn (even)
  cmd: number;
  lun: number;
  data: Uint8Array;
  /** Channel the request arrived on (1 = LAN, 0x0F = system interface / in-band). */
  channel: number;
}

export interface IpmiResponse {
  cc: number; // completion code, 0x00 = OK
  data: Uint8Array;
}

/** What a session-bound transport lets handlers see and do with the current session. */
export interface SessionHandle {
  readonly id: number; // BMC-side session ID
  readonly userId: number;
  readonly userName: string;
  readonly channel: number;
  /** Current operating privilege of the session. */
  privilege: PrivilegeLevel;
  /** Maximum privilege this session may raise itself to (requested at open, limited by user/channel). */
  readonly maxPrivilege: PrivilegeLevel;
  readonly authType: 'rmcp+' | 'md5' | 'none';
  readonly remoteAddress: string;
  readonly remotePort: number;
  close(): void;
}

/** Session table facts handlers need (Get Session Info, Close Session, payload activation). */
export interface SessionDirectory {
  active(): SessionHandle[];
  byId(id: number): SessionHandle | undefined;
  readonly maxSessions: number;
}

export interface CommandContext {
  machine: Machine;
  store: BmcStore;
  /** Present for LAN sessions; absent for the system interface (in-band), which has implicit Administrator access. */
  session?: SessionHandle;
  sessions?: SessionDirectory;
  /** Effective privilege of the caller (session privilege, or Administrator for the system interface). */
  privilege: PrivilegeLevel;
  /** Cipher suite IDs this BMC accepts for RMCP+ (e.g. [3, 17]; 0 only when configured). */
  cipherSuites: readonly number[];
}

export type CommandHandler = (req: IpmiRequest, ctx: CommandContext) => IpmiResponse | Promise<IpmiResponse>;

export interface CommandEntry {
  netFn: number;
  cmd: number;
  name: string;
  /** Minimum privilege (IPMI 2.0 appendix G). */
  privilege: PrivilegeLevel;
  handler: CommandHandler;
}

/** Implemented by ipmi/commands/index.ts: the one table shared by LAN and in-band. */
export interface CommandDispatcher {
  dispatch(req: IpmiRequest, ctx: CommandContext): Promise<IpmiResponse>;
  /**
   * The same as dispatch(), but a synchronous handler's answer comes back directly, without a promise: the LAN
   * transport then answers in the same turn of the event loop (no microtask hops per packet). Optional.
   */
  dispatchDirect?(req: IpmiRequest, ctx: CommandContext): IpmiResponse | Promise<IpmiResponse>;
}

export const CompletionCode = {
  Ok: 0x00,
  NodeBusy: 0xc0,
  InvalidCommand: 0xc1,
  InvalidForLun: 0xc2,
  Timeout: 0xc3,
  OutOfSpace: 0xc4,
  ReservationCancelled: 0xc5,
  RequestDataTruncated: 0xc6,
  RequestDataLengthInvalid: 0xc7,
  RequestDataFieldLengthExceeded: 0xc8,
  ParameterOutOfRange: 0xc9,
  CannotReturnRequestedBytes: 0xca,
  NotPresent: 0xcb,
  InvalidDataField: 0xcc,
  IllegalForSensorOrRecord: 0xcd,
  CannotProvideResponse: 0xce,
  DuplicateRequest: 0xcf,
  SdrInUpdateMode: 0xd0,
  FirmwareUpdateMode: 0xd1,
  InitInProgress: 0xd2,
  DestinationUnavailable: 0xd3,
  InsufficientPrivilege: 0xd4,
  NotSupportedInPresentState: 0xd5,
  ParameterIllegal: 0xd6,
  Unspecified: 0xff,
} as const;
