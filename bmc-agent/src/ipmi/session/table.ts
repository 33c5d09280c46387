// The session table: handshakes in progress and active sessions, ID allocation, the session limit and idle expiry.
import { randomBytes } from 'node:crypto';
import type { PrivilegeLevel } from '../../bmc/types.ts';
import type { CipherSuite } from '../crypto/suites.ts';
import type { SessionDirectory } from '../types.ts';
import { Session, type SessionInit } from './session.ts';

/** A session between Open Session and RAKP 3. */
export interface Handshake {
  id: number;
  consoleSessionId: number;
  suite: CipherSuite;
  /** Privilege granted at Open Session: the most RAKP 1 may ask for. */
  maxPrivilege: PrivilegeLevel;
  remoteAddress: string;
  remotePort: number;
  /** Time of the last handshake message (Open Session or RAKP 1). */
  createdAt: number;
  /** IPMI 1.5 (Get Session Challenge → Activate Session) instead of RAKP; the suite is then "none". */
  v15?: { challenge: Uint8Array; userId: number };
  /** Filled by RAKP 1. */
  rakp1?: {
    consoleRandom: Uint8Array;
    bmcRandom: Uint8Array;
    role: number;
    userName: Uint8Array;
    userId: number;
    kuid: Uint8Array;
  };
}

/** Measured from the last handshake message; real consoles answer within a second, retries included well under 10 s. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

export interface SessionTableOptions {
  maxSessions: number;
  idleTimeoutMs: number;
  /** How long a handshake may sit idle between Open Session and RAKP 3. */
  handshakeTimeoutMs?: number;
  now?: () => number;
}

export class SessionTable implements SessionDirectory {
  readonly maxSessions: number;
  private readonly idleTimeoutMs: number;
  private readonly handshakeTimeoutMs: number;
  readonly now: () => number;
  private readonly sessions = new Map<number, Session>();
  private readonly handshakes = new Map<number, Handshake>();

  constructor(options: SessionTableOptions) {
    if (!Number.isInteger(options.maxSessions) || options.maxSessions < 1 || options.maxSessions > 63) {
      throw new RangeError(`maxSessions ${options.maxSessions} must be 1..63`);
    }
    if (!(options.idleTimeoutMs > 0)) throw new RangeError('idle timeout must be positive');
    this.maxSessions = options.maxSessions;
    this.idleTimeoutMs = options.idleTimeoutMs;
    this.handshakeTimeoutMs =
      options.handshakeTimeoutMs ?? Math.min(options.idleTimeoutMs, DEFAULT_HANDSHAKE_TIMEOUT_MS);
    this.now = options.now ?? Date.now;
  }

  active(): Session[] {
    this.sweep();
    return [...this.sessions.values()];
  }

  byId(id: number): Session | undefined {
    this.sweep();
    return this.sessions.get(id);
  }

  handshake(id: number): Handshake | undefined {
    this.sweep();
    return this.handshakes.get(id);
  }

  /** Sessions and handshakes both hold a slot. */
  get used(): number {
    return this.sessions.size + this.handshakes.size;
  }

  /** Starts a handshake, or returns undefined when every slot is taken. */
  beginHandshake(init: Omit<Handshake, 'id' | 'createdAt'>): Handshake | undefined {
    this.sweep();
    if (this.used >= this.maxSessions) {
      // Handshakes cost an attacker one unauthenticated datagram each; rather than let a flood of them lock real
      // consoles out for the handshake timeout, the oldest pending one gives way. Active sessions never do.
      const oldest = [...this.handshakes.values()].reduce<Handshake | undefined>(
        (a, h) => (a === undefined || h.createdAt < a.createdAt ? h : a),
        undefined,
      );
      if (!oldest) return undefined;
      this.handshakes.delete(oldest.id);
    }
    const handshake: Handshake = { ...init, id: this.freshId(), createdAt: this.now() };
    this.handshakes.set(handshake.id, handshake);
    return handshake;
  }

  dropHandshake(id: number): void {
    this.handshakes.delete(id);
  }

  /** Turns a completed handshake into an active session under the same ID. */
  activate(init: Omit<SessionInit, 'now' | 'onClose'>): Session {
    this.handshakes.delete(init.id);
    const session = new Session({
      ...init,
      now: this.now(),
      onClose: (id) => {
        this.sessions.delete(id);
        for (const listener of this.closeListeners) listener(id);
      },
    });
    this.sessions.set(session.id, session);
    return session;
  }

  touch(session: Session): void {
    session.lastActivity = this.now();
  }

  /**
   * Drops idle sessions and stale handshakes. A handshake abandoned after RAKP 2 usually means the console found our
   * RAKP 2 code wrong for its password (ipmitool then just stops), so it is worth counting.
   */
  sweep(): { expired: number; abandoned: number } {
    const now = this.now();
    let expired = 0;
    let abandoned = 0;
    for (const s of [...this.sessions.values()]) {
      if (now - s.lastActivity > this.idleTimeoutMs) {
        s.close();
        expired++;
      }
    }
    for (const h of [...this.handshakes.values()]) {
      if (now - h.createdAt > this.handshakeTimeoutMs) {
        this.handshakes.delete(h.id);
        if (h.rakp1) abandoned++;
      }
    }
    if (expired + abandoned > 0) this.onSweep?.({ expired, abandoned });
    return { expired, abandoned };
  }

  private readonly closeListeners: Array<(id: number) => void> = [];

  /** Called with the ID of every session that ends (Close Session, idle expiry, shutdown). */
  onSessionClosed(listener: (id: number) => void): void {
    this.closeListeners.push(listener);
  }

  /** Called when a sweep removed something (lan.ts turns it into metrics). */
  onSweep: ((removed: { expired: number; abandoned: number }) => void) | undefined;

  closeAll(): void {
    for (const s of [...this.sessions.values()]) s.close();
    this.handshakes.clear();
  }

  private freshId(): number {
    // With at most 63 slots in 2^32 IDs a collision is rare; the bound only guards against a broken RNG.
    for (let attempt = 0; attempt < 64; attempt++) {
      const id = randomBytes(4).readUInt32LE(0);
      if (id !== 0 && !this.sessions.has(id) && !this.handshakes.has(id)) return id;
    }
    throw new Error('could not allocate a session ID');
  }
}
