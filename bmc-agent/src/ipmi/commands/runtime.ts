// Volatile BMC state that lives as long as the agent process (not persisted): what real BMCs lose on reset.
import type { IpmiRequest, SessionHandle } from '../types.ts';
import { SystemEventLog } from './sel.ts';

/** What a transport for Serial-over-LAN plugs in so Activate/Deactivate Payload can start and stop SOL. */
export interface SolPayloadHook {
  /**
   * Starts SOL for this session. Throws CompletionError(0x80) when the instance is already active elsewhere.
   * Resolves to the sizes and port the client must use.
   */
  activate(
    session: SessionHandle,
    instance: number,
    options: { encrypt: boolean; authenticate: boolean },
  ): Promise<{ inboundSize: number; outboundSize: number; port: number }>;
  /** Stops SOL; false when the instance was not active. */
  deactivate(session: SessionHandle | undefined, instance: number): Promise<boolean>;
  /** Instances (1-based) currently active. */
  activeInstances(): number[];
}

export interface DispatcherOptions {
  /** Firmware version reported by Get Device ID, "major.minor[.patch]" (default: the package version). */
  firmwareVersion?: string;
  /** Whether IPMI 1.5 (MD5) sessions are allowed on the LAN channel; reported by Get Channel Auth Capabilities. */
  ipmi15?: boolean;
  /** Serial-over-LAN; without it SOL activation answers "payload type disabled". */
  sol?: SolPayloadHook;
  /** UDP port the LAN channel listens on (LAN parameter 8, SOL parameter 8). */
  lanPort?: number;
  /** How long Chassis Control waits for the machine before answering (the action continues after). */
  actionWaitMs?: number;
  /** Clock in milliseconds since 1970 (tests). */
  now?: () => number;
  /**
   * Told about what a handler threw other than a CompletionError (a refused machine action, a bug), and about a
   * power action that failed after Chassis Control had already answered.
   */
  onError?: DispatchErrorListener;
}

export type DispatchErrorListener = (error: unknown, req: IpmiRequest) => void;

export interface LanVolatile {
  ipv4Header: number[]; // LAN parameter 7: TTL, flags, precedence/TOS
  arpControl: number; // parameter 10: bit 1 ARP responses, bit 0 gratuitous ARP
  garpInterval: number; // parameter 11
  gatewayMac: number[]; // parameter 13
  backupGateway: number[]; // parameter 14
  backupGatewayMac: number[]; // parameter 15
  community: number[]; // parameter 16, 18 bytes
  vlanPriority: number; // parameter 21
  /** The VLAN ID last written with the enable bit clear (parameter 20 reads it back). */
  disabledVlanId: number;
}

export interface Runtime {
  readonly options: DispatcherOptions;
  now(): number;
  nowSeconds(): number;
  globalEnables: number;
  identify: { untilMs: number; forced: boolean };
  /** Set-in-progress values (parameter 0) of System Boot Options, LAN and SOL configuration. */
  setInProgress: { boot: number; lan: number; sol: number };
  lan: LanVolatile;
  /** Bit 4 of Get Chassis Status byte 2: the last power-on came from an IPMI command. */
  lastPowerOnByIpmi: boolean;
  sel: SystemEventLog;
  sdrReservation: number;
}

export function createRuntime(options: DispatcherOptions): Runtime {
  const now = options.now ?? Date.now;
  const nowSeconds = (): number => Math.floor(now() / 1000);
  const community = new Array<number>(18).fill(0);
  community.splice(0, 6, ...Buffer.from('public'));
  return {
    options,
    now,
    nowSeconds,
    globalEnables: 0x08, // System Event Logging enabled
    identify: { untilMs: 0, forced: false },
    setInProgress: { boot: 0, lan: 0, sol: 0 },
    lan: {
      ipv4Header: [0x40, 0x40, 0x10],
      arpControl: 0x02, // bit 1: ARP responses enabled; bit 0: gratuitous ARP disabled
      garpInterval: 0x04,
      gatewayMac: [0, 0, 0, 0, 0, 0],
      backupGateway: [0, 0, 0, 0],
      backupGatewayMac: [0, 0, 0, 0, 0, 0],
      community,
      vlanPriority: 0,
      disabledVlanId: 0,
    },
    lastPowerOnByIpmi: false,
    sel: new SystemEventLog(nowSeconds),
    sdrReservation: 0,
  };
}
