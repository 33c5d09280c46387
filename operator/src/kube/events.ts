// Kubernetes Events (events.k8s.io/v1) about the objects the operator manages, for `kubectl describe` and
// `kubectl get events`. Deduplicated as client-go's recorder does: the same event (object, type, reason, action,
// note) seen again within 10 minutes is a PATCH of the first one's series (count, lastObservedTime), not a new
// object. Rate-limited per object (a token bucket, as client-go's spam filter: 25 at once, then one per 5 minutes).
// Memory is bounded (least recently used entries go first). Writing an event never fails or delays a reconcile:
// writes run in the background, and a failure is logged at debug.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.ts';
import type { KubeClient } from './client.ts';
import type { KubeObject } from './objects.ts';

export const EVENTS_API_VERSION = 'events.k8s.io/v1';
export const REPORTING_CONTROLLER = 'qemu-bmc.dev/operator';
export const DEDUPE_WINDOW_MS = 10 * 60_000;
/** How many distinct events (and objects' rate limits) are remembered. */
export const MAX_REMEMBERED = 4096;
export const BURST = 25;
export const REFILL_MS = 5 * 60_000;
/** The apiserver refuses a longer note. */
export const NOTE_MAX_BYTES = 1024;

export type EventType = 'Normal' | 'Warning';

export interface EventSpec {
  type: EventType;
  /** CamelCase, why (PodCreated, AgentUnreachable, PowerOn, ...). */
  reason: string;
  /** CamelCase, what was done or observed (Create, Delete, StatusChange, ...). */
  action: string;
  /** Human-readable; cut at 1 KiB. */
  note: string;
}

export interface EventObject extends KubeObject {
  eventTime: string;
  series?: { count: number; lastObservedTime: string };
  reportingController: string;
  reportingInstance: string;
  action: string;
  reason: string;
  type: EventType;
  note: string;
  regarding: {
    apiVersion: string;
    kind: string;
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
  };
}

/** A MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function truncateNote(note: string): string {
  if (Buffer.byteLength(note) <= NOTE_MAX_BYTES) return note;
  let out = note.slice(0, NOTE_MAX_BYTES);
  while (Buffer.byteLength(`${out}...`) > NOTE_MAX_BYTES) out = out.slice(0, -1);
  return `${out}...`;
}

/** What makes two events the same event: the object (by uid too, so a recreated object starts afresh) and the event. */
export function eventKey(regarding: KubeObject, event: EventSpec): string {
  const m = regarding.metadata;
  return JSON.stringify([
    regarding.apiVersion,
    regarding.kind,
    m.namespace ?? '',
    m.name,
    m.uid ?? '',
    event.type,
    event.reason,
    event.action,
    truncateNote(event.note),
  ]);
}

/** A Map that forgets its least recently used entries beyond `max`. */
export class BoundedLru<V> {
  readonly #max: number;
  readonly #map = new Map<string, V>();
  constructor(max: number) {
    this.#max = max;
  }
  get(key: string): V | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }
  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    while (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next().value as string;
      this.#map.delete(oldest);
    }
  }
  delete(key: string): void {
    this.#map.delete(key);
  }
  get size(): number {
    return this.#map.size;
  }
}

/** One token bucket per object: `burst` at once, then one more every `refillMs`. Time is passed in. */
export class TokenBuckets {
  readonly #buckets: BoundedLru<{ tokens: number; at: number }>;
  readonly #burst: number;
  readonly #refillMs: number;
  constructor(burst = BURST, refillMs = REFILL_MS, max = MAX_REMEMBERED) {
    this.#burst = burst;
    this.#refillMs = refillMs;
    this.#buckets = new BoundedLru(max);
  }
  take(key: string, now: number): boolean {
    const b = this.#buckets.get(key) ?? { tokens: this.#burst, at: now };
    const refilled = Math.floor((now - b.at) / this.#refillMs);
    if (refilled > 0) {
      b.tokens = Math.min(this.#burst, b.tokens + refilled);
      b.at = b.tokens === this.#burst ? now : b.at + refilled * this.#refillMs;
    }
    const ok = b.tokens > 0;
    if (ok) b.tokens--;
    this.#buckets.set(key, b);
    return ok;
  }
}

export interface Seen {
  /** The event object's name once created; undefined while the create is in flight or after it failed. */
  name: string | undefined;
  count: number;
  lastMs: number;
  /** Writes of this event, one after the other. */
  chain: Promise<void>;
}

/**
 * Which write an event needs: `create` for one not seen within the window, else `series` with the new count.
 * Pure apart from the LRU it updates.
 */
export function observe(
  seen: BoundedLru<Seen>,
  key: string,
  now: number,
  windowMs = DEDUPE_WINDOW_MS,
): { write: 'create' | 'series'; entry: Seen } {
  const entry = seen.get(key);
  if (entry && now - entry.lastMs <= windowMs) {
    entry.count++;
    entry.lastMs = now;
    return { write: 'series', entry };
  }
  const fresh: Seen = { name: undefined, count: 1, lastMs: now, chain: Promise.resolve() };
  seen.set(key, fresh);
  return { write: 'create', entry: fresh };
}

export interface RecorderOptions {
  client: KubeClient;
  /** reportingInstance: the operator replica (its POD_NAME). */
  instance: string;
  log: Logger;
  now?: () => number;
}

export class EventRecorder {
  readonly #client: KubeClient;
  readonly #instance: string;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #seen = new BoundedLru<Seen>(MAX_REMEMBERED);
  readonly #buckets = new TokenBuckets();
  readonly #inFlight = new Set<Promise<void>>();

  constructor(options: RecorderOptions) {
    this.#client = options.client;
    this.#instance = options.instance.slice(0, 128);
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
  }

  /** Records an event about `regarding` in the background; never throws. */
  emit(regarding: KubeObject, event: EventSpec): void {
    const namespace = regarding.metadata.namespace;
    if (!namespace) return;
    const now = this.#now();
    const ctx = { object: `${namespace}/${regarding.metadata.name}`, reason: event.reason };
    if (!this.#buckets.take(regarding.metadata.uid ?? ctx.object, now)) {
      this.#log.debug(ctx, 'event dropped: rate limit for this object');
      return;
    }
    const { write, entry } = observe(this.#seen, eventKey(regarding, event), now);
    const count = entry.count;
    const run = async () => {
      if (write === 'series' && entry.name !== undefined) {
        await this.#client.mergePatch(
          { apiVersion: EVENTS_API_VERSION, kind: 'Event', metadata: { name: entry.name, namespace } },
          { series: { count, lastObservedTime: microTime(now) } },
        );
        return;
      }
      const created = await this.#client.create(this.#event(regarding, event, now));
      entry.name = created.metadata.name;
    };
    const p = entry.chain
      .then(run)
      .catch((err: Error) => this.#log.debug({ ...ctx, err: err.message }, 'event not written'));
    entry.chain = p;
    this.#inFlight.add(p);
    void p.finally(() => this.#inFlight.delete(p));
  }

  /** Waits for the event writes in flight (at shutdown). */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.#inFlight]);
  }

  #event(regarding: KubeObject, event: EventSpec, now: number): EventObject {
    const m = regarding.metadata;
    return {
      apiVersion: EVENTS_API_VERSION,
      kind: 'Event',
      metadata: { name: `${m.name}.${now.toString(16)}${randomBytes(4).toString('hex')}`, namespace: m.namespace },
      eventTime: microTime(now),
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: this.#instance,
      action: event.action,
      reason: event.reason,
      type: event.type,
      note: truncateNote(event.note),
      regarding: {
        apiVersion: regarding.apiVersion,
        kind: regarding.kind,
        name: m.name,
        ...(m.namespace !== undefined ? { namespace: m.namespace } : {}),
        ...(m.uid !== undefined ? { uid: m.uid } : {}),
        ...(m.resourceVersion !== undefined ? { resourceVersion: m.resourceVersion } : {}),
      },
    };
  }
}
