// Redfish sessions: an unguessable token per login, an idle timeout, a limit on how many exist.
import { randomBytes, randomUUID } from 'node:crypto';

export interface Session {
  id: string;
  token: string;
  userId: number;
  userName: string;
  created: Date;
  lastUsed: number;
}

export class SessionLimitError extends Error {}

export class SessionTable {
  readonly #byToken = new Map<string, Session>();
  readonly #byId = new Map<string, Session>();
  #timeoutMs: number;
  readonly #max: number;
  readonly #now: () => number;

  constructor(opts: { timeoutSec: number; max: number; now?: () => number }) {
    this.#timeoutMs = opts.timeoutSec * 1000;
    this.#max = opts.max;
    this.#now = opts.now ?? Date.now;
  }

  get timeoutSec(): number {
    return this.#timeoutMs / 1000;
  }

  set timeoutSec(sec: number) {
    this.#timeoutMs = sec * 1000;
  }

  create(userId: number, userName: string): Session {
    this.purgeExpired();
    if (this.#byId.size >= this.#max) throw new SessionLimitError(`session limit ${this.#max} reached`);
    const session: Session = {
      id: randomUUID(),
      token: randomBytes(32).toString('hex'),
      userId,
      userName,
      created: new Date(this.#now()),
      lastUsed: this.#now(),
    };
    this.#byToken.set(session.token, session);
    this.#byId.set(session.id, session);
    return session;
  }

  /** The live session for a token, touching it; undefined (and forgotten) when expired. */
  use(token: string): Session | undefined {
    const session = this.#byToken.get(token);
    if (!session) return undefined;
    if (this.#expired(session)) {
      this.delete(session.id);
      return undefined;
    }
    session.lastUsed = this.#now();
    return session;
  }

  get(id: string): Session | undefined {
    const session = this.#byId.get(id);
    if (session && this.#expired(session)) {
      this.delete(id);
      return undefined;
    }
    return session;
  }

  list(): Session[] {
    this.purgeExpired();
    return [...this.#byId.values()];
  }

  delete(id: string): boolean {
    const session = this.#byId.get(id);
    if (!session) return false;
    this.#byId.delete(id);
    this.#byToken.delete(session.token);
    return true;
  }

  /** Ends every session of a user, e.g. after a password change or account removal. */
  deleteForUser(userId: number, except?: string): void {
    for (const s of [...this.#byId.values()]) if (s.userId === userId && s.id !== except) this.delete(s.id);
  }

  clear(): void {
    this.#byId.clear();
    this.#byToken.clear();
  }

  get size(): number {
    return this.#byId.size;
  }

  purgeExpired(): void {
    for (const s of [...this.#byId.values()]) if (this.#expired(s)) this.delete(s.id);
  }

  #expired(s: Session): boolean {
    return this.#now() - s.lastUsed > this.#timeoutMs;
  }
}
