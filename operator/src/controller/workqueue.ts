// A rate-limited work queue of object keys, like client-go's: a key is queued at most once, handled by at most
// one worker at a time (a key added while being handled is handled again afterwards), and a key whose handler
// fails comes back after an exponential backoff that resets on success.

/** What a handler returns: nothing when done, or a delay after which the key must be looked at again. */
export type HandlerResult = undefined | { requeueAfterMs: number };
export type Handler = (key: string) => Promise<HandlerResult>;

export interface WorkQueueOptions {
  handler: Handler;
  workers: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Called after each handled key (for metrics and logs). */
  onDone?: (key: string, outcome: { error?: unknown; durationMs: number; failures: number }) => void;
}

/** Backoff for the n-th consecutive failure (n ≥ 1): base·2^(n−1), capped. */
export function backoffDelay(failures: number, baseDelayMs: number, maxDelayMs: number): number {
  if (failures < 1) return 0;
  return Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(failures - 1, 30));
}

export class WorkQueue {
  readonly #opts: Required<Omit<WorkQueueOptions, 'onDone'>> & Pick<WorkQueueOptions, 'onDone'>;
  readonly #queue: string[] = [];
  readonly #queued = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  #shuttingDown = false;
  #idleWaiters: (() => void)[] = [];

  constructor(options: WorkQueueOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1)
      throw new Error('workers must be a positive integer');
    this.#opts = { baseDelayMs: 200, maxDelayMs: 60_000, ...options };
  }

  /** Keys waiting (not counting delayed ones or those being handled). */
  depth(): number {
    return this.#queue.length;
  }

  inFlight(): number {
    return this.#processing.size;
  }

  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  add(key: string): void {
    if (this.#shuttingDown) return;
    const pending = this.#timers.get(key);
    if (pending) {
      clearTimeout(pending.timer);
      this.#timers.delete(key);
    }
    if (this.#processing.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    this.#queued.add(key);
    this.#queue.push(key);
    this.#pump();
  }

  /** Adds the key after a delay; an earlier pending delay for the same key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + delayMs;
    const pending = this.#timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref?.();
    this.#timers.set(key, { at, timer });
  }

  /** Forgets a key's failure history and any pending delayed add (the object is gone). */
  forget(key: string): void {
    this.#failures.delete(key);
    const pending = this.#timers.get(key);
    if (pending) {
      clearTimeout(pending.timer);
      this.#timers.delete(key);
    }
  }

  /** Stops accepting work and resolves once in-flight handlers finish (or the timeout passes). */
  async shutdown(timeoutMs: number): Promise<void> {
    this.#shuttingDown = true;
    for (const { timer } of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    this.#queue.length = 0;
    this.#queued.clear();
    if (this.#processing.size === 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #pump(): void {
    while (!this.#shuttingDown && this.#processing.size < this.#opts.workers && this.#queue.length > 0) {
      const key = this.#queue.shift() as string;
      this.#queued.delete(key);
      this.#processing.add(key);
      void this.#run(key);
    }
  }

  async #run(key: string): Promise<void> {
    const started = performance.now();
    let error: unknown;
    let result: HandlerResult;
    try {
      result = await this.#opts.handler(key);
    } catch (err) {
      error = err ?? new Error('handler failed');
    }
    this.#processing.delete(key);
    let failures = 0;
    if (error !== undefined) {
      failures = (this.#failures.get(key) ?? 0) + 1;
      this.#failures.set(key, failures);
    } else {
      this.#failures.delete(key);
    }
    this.#opts.onDone?.(key, { error, durationMs: performance.now() - started, failures });
    // A failed key waits out its backoff even if it changed meanwhile: the retry sees the change anyway.
    const changed = this.#dirty.delete(key);
    if (error !== undefined) this.addAfter(key, backoffDelay(failures, this.#opts.baseDelayMs, this.#opts.maxDelayMs));
    else if (changed) this.add(key);
    else if (result) this.addAfter(key, result.requeueAfterMs);
    if (this.#processing.size === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
    this.#pump();
  }
}
