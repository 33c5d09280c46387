// EventService push subscriptions: each event is POSTed as JSON to every subscriber's Destination, with a
// few bounded retries. Redirects are not followed; TLS certificates are verified unless the subscriber
// turned VerifyCertificate off. With a destination policy (REDFISH_EVENT_DESTINATIONS), each delivery first
// resolves and checks the host; a refused one is neither sent nor retried.
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Logger } from 'pino';
import type { DestinationPolicy, ResolvedAddress } from './destination-policy.ts';

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

/** How one event ended for one subscriber (after its retries). */
export type DeliveryResult = 'delivered' | 'failed' | 'refused-by-policy';

export interface SubscriptionTableOptions {
  max?: number;
  delivery?: DeliveryOptions;
  /** null/undefined = any destination. */
  policy?: DestinationPolicy | null;
  onResult?: (result: DeliveryResult) => void;
}

export class SubscriptionTable {
  readonly #subs = new Map<string, Subscription>();
  readonly #log: Logger;
  readonly #max: number;
  readonly #delivery: DeliveryOptions;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #policy: DestinationPolicy | null;
  readonly #onResult: (result: DeliveryResult) => void;
  /** Subscriptions whose refusal was logged already (log once each). */
  readonly #refusalLogged = new Set<string>();

  constructor(log: Logger, options: SubscriptionTableOptions = {}) {
    this.#log = log;
    this.#max = options.max ?? 8;
    this.#delivery = options.delivery ?? DEFAULT_DELIVERY;
    this.#policy = options.policy ?? null;
    this.#onResult = options.onResult ?? (() => undefined);
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
    this.#refusalLogged.delete(id);
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
    this.#refusalLogged.clear();
  }

  #attempt(sub: Subscription, body: string, attempt: number): void {
    this.#send(sub, body).then(
      (status) => {
        if (status === 'refused') return;
        if (status >= 200 && status < 300) {
          this.#onResult('delivered');
          return;
        }
        this.#retry(sub, body, attempt, `HTTP ${status}`);
      },
      (err: Error) => this.#retry(sub, body, attempt, err.message),
    );
  }

  /** Checks the destination against the policy (when there is one), then POSTs to the checked address. */
  async #send(sub: Subscription, body: string): Promise<number | 'refused'> {
    const { timeoutMs } = this.#delivery;
    if (!this.#policy) return post(sub.destination, body, sub.verifyCertificate, timeoutMs);
    const decision = await this.#policy.check(new URL(sub.destination).hostname);
    if (!decision.allowed) {
      this.#onResult('refused-by-policy');
      if (!this.#refusalLogged.has(sub.id)) {
        this.#refusalLogged.add(sub.id);
        this.#log.warn(
          {
            subscription: sub.id,
            destination: sub.destination,
            reason: decision.reason,
            allowed: this.#policy.entries,
          },
          'event delivery refused by REDFISH_EVENT_DESTINATIONS (logged once per subscription)',
        );
      }
      return 'refused';
    }
    return post(sub.destination, body, sub.verifyCertificate, timeoutMs, decision.address);
  }

  #retry(sub: Subscription, body: string, attempt: number, reason: string): void {
    if (!this.#subs.has(sub.id)) return; // deleted meanwhile
    if (attempt >= this.#delivery.attempts) {
      this.#onResult('failed');
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

/** A lookup that answers with the address the policy checked, so the connection goes exactly there. */
function pinnedLookup(pinned: ResolvedAddress): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address: pinned.address, family: pinned.family }]);
    else callback(null, pinned.address, pinned.family);
  };
}

function post(
  destination: string,
  body: string,
  verify: boolean,
  timeoutMs: number,
  pinned?: ResolvedAddress,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL(destination);
    const options = {
      ...(pinned ? { lookup: pinnedLookup(pinned) } : {}),
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
