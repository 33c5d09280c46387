// Wires watches, the work queue, the reconciler and the agent links. Runs only while this replica leads.
import { AgentLinks } from '../agentlink/links.ts';
import { keyOf, LABEL_INSTANCE, MANAGED_SELECTOR } from '../api/names.ts';
import { API_VERSION, PLURAL, type VirtualBMC } from '../api/types.ts';
import type { OperatorConfig } from '../config.ts';
import type { KubeClient } from '../kube/client.ts';
import { EventRecorder } from '../kube/events.ts';
import { WatchedCache } from '../kube/informer.ts';
import type { KubeObject, PersistentVolumeClaim, Pod, Secret, Service } from '../kube/objects.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { keepPersistentVolumeClaim, keepPod, keepSecret, keepService, keepVirtualBMC } from './cached.ts';
import { Reconciler } from './reconciler.ts';
import { WorkQueue } from './workqueue.ts';

export class Controller {
  readonly queue: WorkQueue;
  readonly links: AgentLinks;
  readonly vbmcs: WatchedCache<VirtualBMC>;
  readonly #caches: WatchedCache<KubeObject>[];
  readonly #log: Logger;
  readonly #events: EventRecorder;
  readonly #resyncMs: number;
  #resync: NodeJS.Timeout | undefined;
  #started = false;

  constructor(client: KubeClient, config: OperatorConfig, log: Logger, metrics: Metrics) {
    this.#log = log;
    this.#resyncMs = config.resyncSeconds * 1000;
    const ns = config.watchNamespace;
    const core = (plural: string) => (ns ? `/api/v1/namespaces/${ns}/${plural}` : `/api/v1/${plural}`);
    const vbmcPath = ns ? `/apis/${API_VERSION}/namespaces/${ns}/${PLURAL}` : `/apis/${API_VERSION}/${PLURAL}`;

    this.links = new AgentLinks(log.child({ part: 'agentlink' }), (key) => this.queue.add(key));
    const enqueueSelf = (_t: string, o: KubeObject) =>
      this.queue.add(keyOf(o.metadata.namespace ?? '', o.metadata.name));
    // Owned objects map back to their VirtualBMC through the instance label.
    const enqueueOwner = (_t: string, o: KubeObject) => {
      const owner = o.metadata.labels?.[LABEL_INSTANCE];
      if (owner && o.metadata.namespace) this.queue.add(keyOf(o.metadata.namespace, owner));
    };
    // Each cache keeps only what the reconciler reads of its kind (cached.ts).
    const watch = <T extends KubeObject>(
      path: string,
      selector: string | undefined,
      onEvent: (t: string, o: T) => void,
      keep: (o: KubeObject) => T,
    ) => new WatchedCache<T>(client, path, selector, log, onEvent, keep);
    this.vbmcs = watch<VirtualBMC>(vbmcPath, undefined, enqueueSelf, keepVirtualBMC);
    const secrets = watch<Secret>(core('secrets'), MANAGED_SELECTOR, enqueueOwner, keepSecret);
    const services = watch<Service>(core('services'), MANAGED_SELECTOR, enqueueOwner, keepService);
    const pods = watch<Pod>(core('pods'), MANAGED_SELECTOR, enqueueOwner, keepPod);
    const pvcs = watch<PersistentVolumeClaim>(
      core('persistentvolumeclaims'),
      MANAGED_SELECTOR,
      enqueueOwner,
      keepPersistentVolumeClaim,
    );
    this.#caches = [secrets, services, pods, pvcs, this.vbmcs] as unknown as WatchedCache<KubeObject>[];

    this.#events = new EventRecorder({ client, instance: config.identity, log: log.child({ part: 'events' }) });
    const reconciler = new Reconciler({
      client,
      log,
      events: this.#events,
      links: this.links,
      defaultImage: config.agentImage,
      agentEndpoints: config.agentEndpoints,
      caches: {
        vbmc: (n, name) => this.vbmcs.get(n, name),
        secret: (n, name) => secrets.get(n, name),
        service: (n, name) => services.get(n, name),
        pod: (n, name) => pods.get(n, name),
        pvc: (n, name) => pvcs.get(n, name),
      },
    });
    this.queue = new WorkQueue({
      workers: config.workers,
      handler: (key) => reconciler.reconcile(key),
      onDone: (key, { error, durationMs, failures }) => {
        metrics.duration.observe(durationMs / 1000);
        metrics.reconciles.inc({ result: error ? 'error' : 'success' });
        if (error) {
          metrics.errors.inc();
          log.warn(
            { key, err: (error as Error).message ?? String(error), failures },
            'reconcile failed; retrying with backoff',
          );
        } else {
          log.debug({ key, durationMs: Math.round(durationMs) }, 'reconciled');
        }
      },
    });
  }

  /** Starts watches (children first, so the first reconciles see them), then the periodic resync. */
  async start(): Promise<void> {
    this.#started = true;
    await Promise.all(this.#caches.slice(0, -1).map((c) => c.start()));
    await this.vbmcs.start();
    this.#log.info({ virtualbmcs: this.vbmcs.list().length }, 'caches synced');
    // Resync re-reads the caches, not the apiserver: it repairs missed events and costs no writes when idle.
    this.#resync = setInterval(() => {
      for (const v of this.vbmcs.list()) this.queue.add(keyOf(v.metadata.namespace, v.metadata.name));
    }, this.#resyncMs);
    this.#resync.unref();
  }

  synced(): boolean {
    return this.#started && this.#caches.every((c) => c.synced());
  }

  powerStates(): Map<string, number> {
    const out = new Map<string, number>();
    for (const v of this.vbmcs.list()) {
      const state = v.status?.powerState ?? 'Unknown';
      out.set(state, (out.get(state) ?? 0) + 1);
    }
    return out;
  }

  async stop(timeoutMs: number): Promise<void> {
    clearInterval(this.#resync);
    await this.queue.shutdown(timeoutMs);
    this.links.closeAll();
    await this.#events.flush();
    await Promise.all(this.#caches.map((c) => c.stop()));
  }
}
