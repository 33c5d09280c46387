// Leader election on a coordination.k8s.io/v1 Lease, client-go style: a replica takes the lease when its holder
// has not renewed it for leaseDuration as observed on this replica's own clock (no cross-node clock comparison),
// and writes are guarded by resourceVersion so two replicas can never both win.
import { ApiError, isConflict, isNotFound, type KubeClient } from '../kube/client.ts';
import type { Lease } from '../kube/objects.ts';
import type { Logger } from '../log.ts';

export interface LeaderOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds: number;
  renewSeconds: number;
  log: Logger;
  onStartedLeading: () => void;
  /** Called once when leadership is lost (the caller should stop all work, typically by exiting). */
  onStoppedLeading: () => void;
}

/** MicroTime: RFC 3339 with exactly six fractional digits. */
export const microTime = (d: Date): string => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export class LeaderElector {
  readonly #o: LeaderOptions;
  #leading = false;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #observed: { record: string; at: number } | undefined;
  #lastRenew = 0;

  constructor(options: LeaderOptions) {
    this.#o = options;
  }

  isLeader(): boolean {
    return this.#leading;
  }

  start(): void {
    void this.#tick();
  }

  /** Stops campaigning; a leader gives the lease up so a standby takes over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    if (!this.#leading) return;
    this.#leading = false;
    try {
      const lease = await this.#get();
      if (lease?.spec.holderIdentity === this.#o.identity) {
        lease.spec.holderIdentity = null;
        lease.spec.acquireTime = null;
        lease.spec.renewTime = null;
        lease.spec.leaseDurationSeconds = 1;
        await this.#o.client.replace(lease);
      }
    } catch (err) {
      this.#o.log.warn({ err }, 'could not release the leader lease');
    }
  }

  async #get(): Promise<Lease | undefined> {
    try {
      return await this.#o.client.get<Lease>('coordination.k8s.io/v1', 'Lease', this.#o.namespace, this.#o.name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    try {
      await this.#tryAcquireOrRenew();
    } catch (err) {
      if (!(err instanceof ApiError && isConflict(err)))
        this.#o.log.warn({ err: String(err) }, 'leader election attempt failed');
    }
    if (this.#leading && Date.now() - this.#lastRenew > this.#o.leaseDurationSeconds * 1000) {
      this.#lose('could not renew the lease in time');
    }
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#tick(), this.#o.renewSeconds * 1000);
  }

  async #tryAcquireOrRenew(): Promise<void> {
    const { client, identity, namespace, name, leaseDurationSeconds } = this.#o;
    const now = new Date();
    const lease = await this.#get();
    if (!lease) {
      await client.create<Lease>({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds,
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions: 0,
        },
      });
      this.#win();
      return;
    }
    const holder = lease.spec.holderIdentity ?? '';
    const record = `${holder}|${lease.spec.renewTime ?? ''}`;
    if (this.#observed?.record !== record) this.#observed = { record, at: Date.now() };
    if (holder === identity) {
      lease.spec.renewTime = microTime(now);
      lease.spec.leaseDurationSeconds = leaseDurationSeconds;
      await client.replace(lease);
      this.#win();
      return;
    }
    if (this.#leading) this.#lose(`lease taken by ${holder}`);
    const duration = (lease.spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    const expired = holder === '' || Date.now() - this.#observed.at > duration;
    if (!expired) return;
    lease.spec.holderIdentity = identity;
    lease.spec.leaseDurationSeconds = leaseDurationSeconds;
    lease.spec.acquireTime = microTime(now);
    lease.spec.renewTime = microTime(now);
    lease.spec.leaseTransitions = (lease.spec.leaseTransitions ?? 0) + 1;
    await client.replace(lease);
    this.#o.log.info({ previous: holder || null }, 'took over the leader lease');
    this.#win();
  }

  #win(): void {
    this.#lastRenew = Date.now();
    if (this.#leading) return;
    this.#leading = true;
    this.#o.log.info({ identity: this.#o.identity }, 'became leader');
    this.#o.onStartedLeading();
  }

  #lose(reason: string): void {
    if (!this.#leading) return;
    this.#leading = false;
    this.#stopped = true;
    this.#o.log.error({ reason }, 'lost leadership');
    this.#o.onStoppedLeading();
  }
}
