// A watched cache of one resource, on client-node's informer (list, then watch from the list's resourceVersion;
// a 410 Gone relists). Any other watch failure stops client-node's informer, so this restarts it with backoff.
import { type KubeConfig, type KubernetesObject, makeInformer } from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import type { KubeClient } from './client.ts';
import type { KubeObject } from './objects.ts';

export type CacheEvent = 'add' | 'update' | 'delete';

const RESTART_MIN_MS = 500;
const RESTART_MAX_MS = 30_000;

/**
 * managedFields are 40-50% of a cached object's JSON and the operator never reads them (it applies with its own
 * field manager and compares content hashes), so cached objects do without them.
 */
function withoutManagedFields(obj: KubernetesObject): KubernetesObject {
  if (obj.metadata?.managedFields) delete obj.metadata.managedFields;
  return obj;
}

export class WatchedCache<T extends KubeObject> {
  readonly path: string;
  readonly #informer;
  readonly #log: Logger;
  #synced = false;
  #stopped = false;
  #restarts = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    kc: KubeConfig,
    client: KubeClient,
    path: string,
    labelSelector: string | undefined,
    log: Logger,
    onEvent: (type: CacheEvent, obj: T) => void,
  ) {
    this.path = path;
    this.#log = log.child({ watch: path });
    const query: Record<string, string> = labelSelector ? { labelSelector } : {};
    // Plain JSON from our client: the same shape as the informer's watch events (client-node's typed list
    // functions would turn timestamps into Dates for listed objects only).
    const list = async () => {
      const result = await client.request<{ items: KubernetesObject[]; metadata: { resourceVersion: string } }>(
        'GET',
        path,
        { query },
      );
      for (const item of result.items) withoutManagedFields(item);
      return result;
    };
    this.#informer = makeInformer<KubernetesObject>(kc, path, list, labelSelector);
    // The informer hands us the very object it caches: dropping managedFields here frees them from the cache too.
    this.#informer.on('add', (o) => onEvent('add', withoutManagedFields(o) as unknown as T));
    this.#informer.on('update', (o) => onEvent('update', withoutManagedFields(o) as unknown as T));
    this.#informer.on('delete', (o) => onEvent('delete', o as unknown as T));
    this.#informer.on('error', (err: unknown) => this.#restartLater(err));
  }

  synced(): boolean {
    return this.#synced;
  }

  /** One list-and-watch attempt; true when it listed without error. */
  async #attempt(): Promise<boolean> {
    let failed = false;
    const onError = () => {
      failed = true;
    };
    this.#informer.on('error', onError);
    try {
      await this.#informer.start();
    } finally {
      this.#informer.off('error', onError);
    }
    if (!failed) {
      this.#synced = true;
      this.#restarts = 0;
    }
    return !failed;
  }

  /** Lists and starts watching; resolves once the first list is in the cache (restarts retry until it is). */
  async start(): Promise<void> {
    this.#stopped = false;
    if (await this.#attempt()) return;
    while (!this.#synced && !this.#stopped) await new Promise((r) => setTimeout(r, 100));
  }

  #restartLater(err: unknown): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    const delay = Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** Math.min(this.#restarts++, 10));
    this.#log.warn(
      { err: err instanceof Error ? err.message : String(err), retryInMs: delay },
      'watch failed; restarting',
    );
    this.#timer = setTimeout(() => {
      if (!this.#stopped) void this.#attempt();
    }, delay);
  }

  get(namespace: string, name: string): T | undefined {
    return this.#informer.get(name, namespace) as T | undefined;
  }

  list(namespace?: string): T[] {
    return this.#informer.list(namespace) as unknown as T[];
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#informer.stop();
  }
}
