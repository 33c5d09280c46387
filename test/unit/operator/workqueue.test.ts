import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay, WorkQueue } from '../../../operator/src/controller/workqueue.ts';

/** A handler whose calls can be released one by one. */
function gatedHandler() {
  const calls: string[] = [];
  const gates: (() => void)[] = [];
  let active = 0;
  let maxActivePerKey = 0;
  const activeKeys = new Map<string, number>();
  const handler = async (key: string) => {
    calls.push(key);
    active++;
    activeKeys.set(key, (activeKeys.get(key) ?? 0) + 1);
    maxActivePerKey = Math.max(maxActivePerKey, activeKeys.get(key) ?? 0);
    await new Promise<void>((resolve) => gates.push(resolve));
    activeKeys.set(key, (activeKeys.get(key) ?? 1) - 1);
    active--;
    return undefined;
  };
  return { handler, calls, gates, active: () => active, maxActivePerKey: () => maxActivePerKey };
}

const flush = () => vi.advanceTimersByTimeAsync(0);

describe('work queue', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('backoff doubles from the base delay and is capped', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, 100, 1000))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffDelay(1000, 100, 1000)).toBe(1000);
    expect(backoffDelay(0, 100, 1000)).toBe(0);
  });

  it('deduplicates queued keys', async () => {
    const h = gatedHandler();
    const q = new WorkQueue({ handler: h.handler, workers: 1 });
    q.add('a');
    q.add('b');
    q.add('b');
    q.add('b');
    expect(q.depth()).toBe(1); // a is running, b waits once
    h.gates.shift()?.();
    await flush();
    h.gates.shift()?.();
    await flush();
    expect(h.calls).toEqual(['a', 'b']);
  });

  it('never runs one key on two workers; a key added while running runs again afterwards', async () => {
    const h = gatedHandler();
    const q = new WorkQueue({ handler: h.handler, workers: 4 });
    q.add('a');
    await flush();
    q.add('a');
    q.add('a');
    q.add('b');
    await flush();
    expect(h.active()).toBe(2); // a and b, never a twice
    expect(h.maxActivePerKey()).toBe(1);
    while (h.gates.length > 0) {
      h.gates.shift()?.();
      await flush();
    }
    expect(h.calls.sort()).toEqual(['a', 'a', 'b']);
    expect(h.maxActivePerKey()).toBe(1);
  });

  it('retries a failing key with exponential backoff and resets after success', async () => {
    const times: number[] = [];
    let failuresLeft = 3;
    const q = new WorkQueue({
      workers: 1,
      baseDelayMs: 100,
      maxDelayMs: 10_000,
      handler: async () => {
        times.push(Date.now());
        if (failuresLeft-- > 0) throw new Error('apiserver said no');
        return undefined;
      },
    });
    const start = Date.now();
    q.add('k');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(times.map((t) => t - start)).toEqual([0, 100, 300, 700]);
    expect(q.failures('k')).toBe(0);
  });

  it('honours a requested requeue delay, and the earliest pending delay wins', async () => {
    const times: number[] = [];
    let first = true;
    const q = new WorkQueue({
      workers: 1,
      handler: async () => {
        times.push(Date.now());
        if (first) {
          first = false;
          return { requeueAfterMs: 5_000 };
        }
        return undefined;
      },
    });
    const start = Date.now();
    q.add('k');
    await flush();
    q.addAfter('k', 1_000);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(times.map((t) => t - start)).toEqual([0, 1_000]);
  });

  it('shutdown waits for in-flight work and accepts no more', async () => {
    const h = gatedHandler();
    const q = new WorkQueue({ handler: h.handler, workers: 2 });
    q.add('a');
    await flush();
    let done = false;
    const stopping = q.shutdown(10_000).then(() => {
      done = true;
    });
    q.add('b');
    await flush();
    expect(done).toBe(false);
    h.gates.shift()?.();
    await stopping;
    expect(done).toBe(true);
    expect(h.calls).toEqual(['a']);
  });

  it('rejects a non-positive worker count', () => {
    expect(() => new WorkQueue({ handler: async () => undefined, workers: 0 })).toThrow(/workers/);
  });
});
