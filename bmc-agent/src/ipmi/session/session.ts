// One session (RMCP+, or IPMI 1.5 with MD5): negotiated suite, keys, windows and privilege.
// Implements the SessionHandle handlers see.
import type { PrivilegeLevel } from '../../bmc/types.ts';
import type { CipherSuite } from '../crypto/suites.ts';
import type { SessionHandle } from '../types.ts';
import { SequenceWindow } from './window.ts';

export interface SessionKeys {
  k1: Uint8Array;
  k2: Uint8Array;
}

export interface SessionInit {
  id: number;
  consoleSessionId: number;
  userId: number;
  userName: string;
  channel: number;
  maxPrivilege: PrivilegeLevel;
  suite: CipherSuite;
  keys: SessionKeys;
  /** IPMI 1.5 sessions: the 16-byte password key for MD5 AuthCodes, and the console's initial outbound number. */
  v15?: { key: Uint8Array; initialOutbound: number };
  remoteAddress: string;
  remotePort: number;
  now: number;
  onClose: (id: number) => void;
}

export class Session implements SessionHandle {
  readonly id: number;
  readonly consoleSessionId: number;
  readonly userId: number;
  readonly userName: string;
  readonly channel: number;
  readonly maxPrivilege: PrivilegeLevel;
  readonly authType: 'rmcp+' | 'md5';
  readonly v15Key: Uint8Array | undefined;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly suite: CipherSuite;
  readonly keys: SessionKeys;
  /** Separate windows for authenticated and unauthenticated packets (IPMI 2.0 §6.12.13). */
  readonly authenticatedWindow = new SequenceWindow();
  readonly plainWindow = new SequenceWindow();
  lastActivity: number;
  /** RAKP 3 code and our RAKP 4, to answer a retransmitted RAKP 3; dropped with the session's first packet. */
  rakp4Echo: { rakp3: Uint8Array; reply: Uint8Array } | undefined;
  private currentPrivilege: PrivilegeLevel;
  private outbound = 0;
  private closed = false;
  private readonly onClose: (id: number) => void;

  constructor(init: SessionInit) {
    this.id = init.id;
    this.consoleSessionId = init.consoleSessionId;
    this.userId = init.userId;
    this.userName = init.userName;
    this.channel = init.channel;
    this.maxPrivilege = init.maxPrivilege;
    this.suite = init.suite;
    this.keys = init.keys;
    this.authType = init.v15 ? 'md5' : 'rmcp+';
    this.v15Key = init.v15?.key;
    // IPMI 1.5: the console chose where our numbering starts (Activate Session); RMCP+ starts at 1.
    if (init.v15) this.outbound = (init.v15.initialOutbound - 1) >>> 0;
    this.remoteAddress = init.remoteAddress;
    this.remotePort = init.remotePort;
    this.lastActivity = init.now;
    this.onClose = init.onClose;
    // Sessions start at User level (or lower if that is all they may have); Set Session Privilege Level raises it.
    this.currentPrivilege = Math.min(2, init.maxPrivilege) as PrivilegeLevel;
  }

  get privilege(): PrivilegeLevel {
    return this.currentPrivilege;
  }

  set privilege(level: PrivilegeLevel) {
    if (level < 1 || level > this.maxPrivilege) {
      throw new RangeError(
        `privilege ${level} is outside 1..${this.maxPrivilege} for session 0x${this.id.toString(16)}`,
      );
    }
    this.currentPrivilege = level;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The BMC's outbound session sequence number: 1 for the first packet sent, then +1 (never 0). */
  nextOutboundSequence(): number {
    this.outbound = this.outbound >= 0xffffffff ? 1 : this.outbound + 1;
    return this.outbound;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose(this.id);
  }
}
