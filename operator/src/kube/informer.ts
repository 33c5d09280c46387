// A watched cache of one resource: list, then watch from the list's resourceVersion (client-go's reflector, on
// KubeClient: no client-node). A 410 Gone relists and reports what vanished meanwhile as deleted; any other
// failure retries the watch from the last resourceVersion with backoff. Objects enter the cache through `keep`,
// which trims them to what the operator reads (controller/cached.ts), so the cache holds no managedFields, pod
// specs or other unread fields.
import type { Logger } from '../log.ts';
import { ApiError, type KubeClient, type WatchEvent, type Watching } from './client.ts';
import type { KubeObject } from './objects.ts';

export type CacheEvent = 'add' | 'update' | 'delete';

const RESTART_MIN_MS = 500;
const RESTART_MAX_MS = 30_000;
/** The server ends each watch after a random 60-120 s (client-go uses 5-10 min); a quiet resource re-watches then. */
const WATCH_SECONDS_MIN = 60;
/** Beyond the server's timeout, this much silence means a dead connection. */
const WATCH_GRACE_MS = 30_000;
/** Lists are paged so a relist of thousands of objects never holds the whole collection's JSON at once. */
const LIST_PAGE = 250;

interface ObjectList {
  items: KubeObject[];
  metadata: { resourceVersion?: string; continue?: string };
}

export class WatchedCache<T extends KubeObject> {
  readonly path: string;
  readonly #client: KubeClient;
  readonly #selector: string | undefined;
  readonly #log: Logger;
  readonly #onEvent: (type: CacheEvent, obj: T) => void;
  readonly #keep: (obj: KubeObject) => T;
  /** namespace → name → object */
  #objects = new Map<string, Map<string, T>>();
  #resourceVersion = '';
  #synced = false;
  #stopped = true;
  #restarts = 0;
  #watch: Watching | undefined;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  /** Bumped by every start(): a loop left over from before a stop() ends instead of running beside the new one. */
  #generation = 0;

  constructor(
    client: KubeClient,
    path: string,
    labelSelector: string | undefined,
    log: Logger,
    onEvent: (type: CacheEvent, obj: T) => void,
    keep: (obj: KubeObject) => T = (obj) => obj as T,
  ) {
    this.path = path;
    this.#client = client;
    this.#selector = labelSelector;
    this.#log = log.child({ watch: path });
    this.#onEvent = onEvent;
    this.#keep = keep;
  }

  synced(): boolean {
    return this.#synced;
  }

  /** Lists and starts watching; resolves once the first list is in the cache (failures retry until it is). */
  async start(): Promise<void> {
    if (!this.#stopped) return;
    this.#stopped = false;
    void this.#run(++this.#generation);
    while (!this.#synced && !this.#stopped) await new Promise((r) => setTimeout(r, 50));
  }

  /** Ends the watch at once; a list in flight finishes on its own and is discarded (shutdown does not wait for it). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#wake?.();
    this.#watch?.stop();
  }

  get(namespace: string, name: string): T | undefined {
    return this.#objects.get(namespace)?.get(name);
  }

  list(namespace?: string): T[] {
    if (namespace !== undefined) return [...(this.#objects.get(namespace)?.values() ?? [])];
    const out: T[] = [];
    for (const byName of this.#objects.values()) out.push(...byName.values());
    return out;
  }

  async #run(generation: number): Promise<void> {
    while (!this.#stopped && generation === this.#generation) {
      try {
        if (!this.#resourceVersion) await this.#list(generation);
        await this.#watchOnce();
      } catch (err) {
        if (this.#stopped || generation !== this.#generation) break;
        if (err instanceof ApiError && err.status === 410) {
          this.#resourceVersion = ''; // too old: relist at once
          continue;
        }
        const delay = Math.min(RESTART_MAX_MS, RESTART_MIN_MS * 2 ** Math.min(this.#restarts++, 10));
        this.#log.warn(
          { err: err instanceof Error ? err.message : String(err), retryInMs: delay },
          'watch failed; restarting',
        );
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          this.#timer = setTimeout(resolve, delay);
        });
      }
    }
  }

  async #list(generation: number): Promise<void> {
    const items: KubeObject[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const query: Record<string, string> = { limit: String(LIST_PAGE) };
      if (this.#selector) query['labelSelector'] = this.#selector;
      if (cont) query['continue'] = cont;
      const page = await this.#client.request<ObjectList>('GET', this.path, { query });
      for (const item of page.items) items.push(this.#keep(item));
      cont = page.metadata.continue || undefined;
      resourceVersion = page.metadata.resourceVersion ?? '';
    } while (cont && !this.#stopped);
    if (this.#stopped || generation !== this.#generation) return;
    const listed = new Set(items.map((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`));
    for (const [ns, byName] of this.#objects)
      for (const [name, old] of byName)
        if (!listed.has(`${ns}/${name}`)) {
          byName.delete(name);
          this.#onEvent('delete', old);
        }
    for (const item of items) this.#put(item as T);
    this.#resourceVersion = resourceVersion;
    this.#synced = true;
    this.#restarts = 0;
  }

  /** One watch request from the current resourceVersion; resolves when the server ends it. */
  async #watchOnce(): Promise<void> {
    const seconds = WATCH_SECONDS_MIN + Math.floor(Math.random() * WATCH_SECONDS_MIN);
    const query: Record<string, string> = {
      resourceVersion: this.#resourceVersion,
      allowWatchBookmarks: 'true',
      timeoutSeconds: String(seconds),
    };
    if (this.#selector) query['labelSelector'] = this.#selector;
    let gone = false;
    let failure: ApiError | undefined;
    let received = 0;
    const watch = this.#client.watch(this.path, {
      query,
      idleTimeoutMs: seconds * 1000 + WATCH_GRACE_MS,
      onEvent: (event) => {
        received++;
        if (event.type === 'ERROR') {
          const status = event.object as { code?: number; reason?: string; message?: string };
          if (status.code === 410) gone = true;
          else failure = new ApiError(status.code ?? 500, status.reason ?? 'Unknown', status.message ?? 'watch error');
          watch.stop();
          return;
        }
        this.#apply(event);
      },
    });
    this.#watch = watch;
    const started = performance.now();
    await watch.done;
    if (this.#stopped) return;
    if (gone) {
      this.#resourceVersion = '';
      return;
    }
    if (failure) throw failure;
    // A server that ends watches at once, without events, must not make us spin.
    if (received === 0 && performance.now() - started < 1_000) throw new Error('watch ended at once, without events');
  }

  #apply(event: WatchEvent): void {
    const raw = event.object;
    const rv = raw.metadata?.resourceVersion;
    if (event.type === 'ADDED' || event.type === 'MODIFIED') this.#put(this.#keep(raw));
    else if (event.type === 'DELETED') {
      const ns = raw.metadata.namespace ?? '';
      const byName = this.#objects.get(ns);
      const old = byName?.get(raw.metadata.name);
      if (byName && old) {
        byName.delete(raw.metadata.name);
        if (byName.size === 0) this.#objects.delete(ns);
        this.#onEvent('delete', this.#keep(raw));
      }
    }
    if (rv) this.#resourceVersion = rv;
    this.#restarts = 0;
  }

  #put(obj: T): void {
    const ns = obj.metadata.namespace ?? '';
    let byName = this.#objects.get(ns);
    if (!byName) {
      byName = new Map();
      this.#objects.set(ns, byName);
    }
    const old = byName.get(obj.metadata.name);
    if (old && old.metadata.resourceVersion === obj.metadata.resourceVersion) return;
    byName.set(obj.metadata.name, obj);
    this.#onEvent(old ? 'update' : 'add', obj);
  }
}
