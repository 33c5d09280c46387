// EventService push subscriptions: each event is POSTed as JSON to every subscriber's Destination, with a
// few bounded retries. Redirects are not followed; TLS certificates are verified unless the subscriber
// turned VerifyCertificate off.
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Logger } from 'pino';

export interface Subscription {
  id: string;
  destination: string;
  context: string | null;
  verifyCertificate: boolean;
  /** Only events whose MessageId starts with one of these are sent; empty = all. */
  registryPrefixes: string[];
}

export class SubscriptionLimitError extends Error {}

export interface DeliveryOptions {
  attempts: number;
  retryIntervalMs: number;
  timeoutMs: number;
}

export const DEFAULT_DELIVERY: DeliveryOptions = { attempts: 3, retryIntervalMs: 5_000, timeoutMs: 5_000 };

export class SubscriptionTable {
  readonly #subs = new Map<string, Subscription>();
  readonly #log: Logger;
  readonly #max: number;
  readonly #delivery: DeliveryOptions;
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(log: Logger, max = 8, delivery: DeliveryOptions = DEFAULT_DELIVERY) {
    this.#log = log;
    this.#max = max;
    this.#delivery = delivery;
  }

  create(fields: Omit<Subscription, 'id'>): Subscription {
    if (this.#subs.size >= this.#max) throw new SubscriptionLimitError(`subscription limit ${this.#max} reached`);
    const sub = { id: randomUUID(), ...fields };
    this.#subs.set(sub.id, sub);
    return sub;
  }

  get(id: string): Subscription | undefined {
    return this.#subs.get(id);
  }

  list(): Subscription[] {
    return [...this.#subs.values()];
  }

  delete(id: string): boolean {
    return this.#subs.delete(id);
  }

  /** Sends an Event payload to every matching subscriber (with its Context); never throws. */
  deliver(payload: Record<string, unknown>, messageId: string): void {
    for (const sub of this.#subs.values()) {
      if (sub.registryPrefixes.length > 0 && !sub.registryPrefixes.some((p) => messageId.startsWith(`${p}.`))) continue;
      const body = JSON.stringify(sub.context === null ? payload : { ...payload, Context: sub.context });
      this.#attempt(sub, body, 1);
    }
  }

  close(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#subs.clear();
  }

  #attempt(sub: Subscription, body: string, attempt: number): void {
    post(sub.destination, body, sub.verifyCertificate, this.#delivery.timeoutMs).then(
      (status) => {
        if (status >= 200 && status < 300) return;
        this.#retry(sub, body, attempt, `HTTP ${status}`);
      },
      (err: Error) => this.#retry(sub, body, attempt, err.message),
    );
  }

  #retry(sub: Subscription, body: string, attempt: number, reason: string): void {
    if (!this.#subs.has(sub.id)) return; // deleted meanwhile
    if (attempt >= this.#delivery.attempts) {
      this.#log.warn({ subscription: sub.id, destination: sub.destination, reason }, 'event delivery failed');
      return;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#attempt(sub, body, attempt + 1);
    }, this.#delivery.retryIntervalMs);
    timer.unref();
    this.#timers.add(timer);
  }
}

function post(destination: string, body: string, verify: boolean, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL(destination);
    const options = {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(body),
        'OData-Version': '4.0',
      },
      timeout: timeoutMs,
    };
    const req =
      url.protocol === 'https:'
        ? httpsRequest(url, { ...options, rejectUnauthorized: verify })
        : httpRequest(url, options);
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
