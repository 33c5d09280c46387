import { randomBytes } from 'node:crypto';

/**
 * One-time, short-lived tickets that let an authenticated console page open its WebSocket.
 * A ticket is consumed on first use and expires after `ttlMs` even if unused.
 */
export class ConsoleTickets {
  private readonly tickets = new Map<string, number>();
  private readonly ttlMs: number;
  constructor(ttlMs = 60_000) {
    this.ttlMs = ttlMs;
  }

  issue(now = Date.now()): string {
    this.sweep(now);
    const ticket = randomBytes(24).toString('base64url');
    this.tickets.set(ticket, now + this.ttlMs);
    return ticket;
  }

  consume(ticket: string, now = Date.now()): boolean {
    const expires = this.tickets.get(ticket);
    this.tickets.delete(ticket);
    return expires !== undefined && expires > now;
  }

  private sweep(now: number): void {
    for (const [ticket, expires] of this.tickets) if (expires <= now) this.tickets.delete(ticket);
  }
}
