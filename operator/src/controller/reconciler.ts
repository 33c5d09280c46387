// One reconcile of one VirtualBMC: compute the desired children as values, write only what differs from the
// cache (server-side apply, our field manager), then compute the status and write it only if it changed.
import type { AgentLinks } from '../agentlink/links.ts';
import type { AgentTarget } from '../agentlink/redfish.ts';
import {
  ANNOTATION_APPLIED_HASH,
  ANNOTATION_POD_HASH,
  ANNOTATION_POD_PARTS,
  childNames,
  FINALIZER,
  splitKey,
} from '../api/names.ts';
import { API_VERSION, KIND, type VirtualBMC, type VirtualBMCStatus } from '../api/types.ts';
import { isConflict, isNotFound, type KubeClient } from '../kube/client.ts';
import type { EventRecorder } from '../kube/events.ts';
import type { KubeObject, PersistentVolumeClaim, Pod, Secret, Service } from '../kube/objects.ts';
import type { Logger } from '../log.ts';
import { statusEvents } from '../reconcile/events.ts';
import { contentHash } from '../reconcile/hash.ts';
import { changedPodParts, desiredPod } from '../reconcile/pod.ts';
import { desiredPvcs } from '../reconcile/pvc.ts';
import {
  credentialsSource,
  desiredSecret,
  existingMaterial,
  missingMaterial,
  TLS_CERT_KEY,
} from '../reconcile/secret.ts';
import { bmcAddress, desiredService, REDFISH_PORT } from '../reconcile/service.ts';
import { advertisedHost, computeStatus, statusUnchanged } from '../reconcile/status.ts';
import { generateAgentTls, randomPassword } from './material.ts';
import type { HandlerResult } from './workqueue.ts';

export interface Caches {
  vbmc(ns: string, name: string): VirtualBMC | undefined;
  secret(ns: string, name: string): Secret | undefined;
  service(ns: string, name: string): Service | undefined;
  pod(ns: string, name: string): Pod | undefined;
  pvc(ns: string, name: string): PersistentVolumeClaim | undefined;
}

export interface ReconcilerDeps {
  client: KubeClient;
  caches: Caches;
  links: AgentLinks;
  log: Logger;
  /** Events on the VirtualBMC, for transitions only (kube/events.ts). */
  events: EventRecorder;
  defaultImage: string;
  agentEndpoints: Map<string, string>;
}

/** Waiting on something the watches will report; this delay only bounds how long a missed event can stall us. */
const WAIT_MS = 30_000;

const b64 = (s: string | undefined) => (s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8'));

export class Reconciler {
  readonly #d: ReconcilerDeps;
  /** Status we wrote, keyed by object, with the resourceVersion the cache had then (the cache may lag our write). */
  readonly #written = new Map<string, { beforeRV: string | undefined; status: VirtualBMCStatus }>();

  constructor(deps: ReconcilerDeps) {
    this.#d = deps;
  }

  async reconcile(key: string): Promise<HandlerResult> {
    const { namespace, name } = splitKey(key);
    const vbmc = this.#d.caches.vbmc(namespace, name);
    if (!vbmc) {
      this.#d.links.drop(key);
      this.#written.delete(key);
      return undefined;
    }
    try {
      return await this.#reconcile(key, vbmc);
    } catch (err) {
      // A conflict is a stale cache, retried at once with fresh data: not worth telling the user.
      if (!isConflict(err))
        this.#d.events.emit(vbmc, {
          type: 'Warning',
          reason: 'ReconcileError',
          action: 'Reconcile',
          note: (err as Error).message,
        });
      throw err;
    }
  }

  async #reconcile(key: string, vbmc: VirtualBMC): Promise<HandlerResult> {
    const { namespace } = vbmc.metadata;
    if (vbmc.metadata.deletionTimestamp) return this.#finalize(key, vbmc);
    if (!(vbmc.metadata.finalizers ?? []).includes(FINALIZER)) {
      await this.#setFinalizers(vbmc, [...(vbmc.metadata.finalizers ?? []), FINALIZER]);
    }
    let service: Service | undefined;
    let pod: Pod | undefined;
    let result: HandlerResult;
    try {
      await this.#ensureSecret(vbmc);
      service = await this.#ensureService(vbmc);
      for (const pvc of desiredPvcs(vbmc))
        await this.#applyIfChanged(pvc, this.#d.caches.pvc(namespace, pvc.metadata.name));
      ({ pod, result } = await this.#ensurePod(vbmc, service));
      await this.#ensureLink(key, vbmc, service, pod);
    } catch (err) {
      await this.#writeStatus(
        key,
        vbmc,
        computeStatus({ vbmc, service, pod, reconcileError: (err as Error).message, now: new Date().toISOString() }),
      );
      throw err;
    }
    const status = computeStatus({
      vbmc,
      service,
      pod,
      agent: this.#d.links.observation(key),
      now: new Date().toISOString(),
    });
    await this.#writeStatus(key, vbmc, status);
    return result;
  }

  /** Deletes children in order (pod first, so the VM shuts down before its disks go), then drops the finalizer. */
  async #finalize(key: string, vbmc: VirtualBMC): Promise<HandlerResult> {
    const { namespace, name } = vbmc.metadata;
    this.#d.links.drop(key);
    if (!(vbmc.metadata.finalizers ?? []).includes(FINALIZER)) return undefined;
    const names = childNames(name);
    const pod = this.#d.caches.pod(namespace, names.pod);
    if (pod) {
      if (!pod.metadata.deletionTimestamp) {
        await this.#d.client.delete(pod, { uid: pod.metadata.uid });
        this.#d.events.emit(vbmc, {
          type: 'Normal',
          reason: 'PodDeleted',
          action: 'Delete',
          note: `deleted agent pod ${pod.metadata.name} (cleanup: the VM stops before its Service, Secret and disks go)`,
        });
      }
      return { requeueAfterMs: WAIT_MS }; // the pod's delete event brings us back
    }
    const others: (KubeObject | undefined)[] = [
      this.#d.caches.service(namespace, names.service),
      this.#d.caches.secret(namespace, names.secret),
      ...desiredPvcs(vbmc).map((p) => this.#d.caches.pvc(namespace, p.metadata.name)),
    ];
    for (const child of others)
      if (child && !child.metadata.deletionTimestamp) await this.#d.client.delete(child, { uid: child.metadata.uid });
    try {
      await this.#setFinalizers(
        vbmc,
        (vbmc.metadata.finalizers ?? []).filter((f) => f !== FINALIZER),
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.#written.delete(key);
    return undefined;
  }

  /**
   * Finalizers are a merge patch guarded by resourceVersion (a conflict retries with fresh data), so another
   * controller's finalizer added meanwhile is never dropped. Not an apply: an apply of a custom resource must
   * carry its required fields (spec), which are the user's, not ours.
   */
  async #setFinalizers(vbmc: VirtualBMC, finalizers: string[]): Promise<void> {
    await this.#d.client.mergePatch(
      {
        apiVersion: API_VERSION,
        kind: KIND,
        metadata: { name: vbmc.metadata.name, namespace: vbmc.metadata.namespace },
      },
      { metadata: { finalizers, resourceVersion: vbmc.metadata.resourceVersion } },
    );
  }

  async #ensureSecret(vbmc: VirtualBMC): Promise<void> {
    const { namespace, name } = vbmc.metadata;
    const secretName = childNames(name).secret;
    const existing = this.#d.caches.secret(namespace, secretName);
    const material = existingMaterial(existing);
    const missing = missingMaterial(vbmc, material);
    const owned = existing?.metadata.ownerReferences?.some((o) => o.uid === vbmc.metadata.uid) ?? false;
    if (existing && owned && !missing.password && !missing.tls) return;
    const tls = missing.tls ? await generateAgentTls(childNames(name).service, namespace) : undefined;
    const generatesCredentials = vbmc.spec.credentialsSecretRef === undefined;
    const secret = desiredSecret(vbmc, {
      tlsCert: tls?.cert ?? (material.tlsCert as string),
      tlsKey: tls?.key ?? (material.tlsKey as string),
      ...(generatesCredentials
        ? {
            username: material.username || 'admin',
            password: missing.password ? randomPassword() : material.password,
          }
        : {}),
    });
    const { created } = await this.#d.client.applyTelling(secret);
    const generated = [
      ...(missing.tls ? ['the agent TLS certificate'] : []),
      ...(generatesCredentials && missing.password ? [`credentials for user ${material.username || 'admin'}`] : []),
    ].join(' and ');
    this.#d.events.emit(vbmc, {
      type: 'Normal',
      reason: created ? 'SecretCreated' : 'SecretUpdated',
      action: created ? 'Create' : 'Update',
      note: `${created ? 'created' : 'updated'} Secret ${secretName}${generated ? `: generated ${generated}` : ''}`,
    });
    this.#d.log.info(
      { key: `${namespace}/${name}`, generated: { tls: missing.tls, password: missing.password } },
      'secret applied',
    );
  }

  async #ensureService(vbmc: VirtualBMC): Promise<Service> {
    const desired = desiredService(vbmc);
    const cached = this.#d.caches.service(vbmc.metadata.namespace, desired.metadata.name);
    return this.#applyIfChanged(desired, cached, () =>
      this.#d.events.emit(vbmc, {
        type: 'Normal',
        reason: 'ServiceCreated',
        action: 'Create',
        note: `created Service ${desired.metadata.name} (${desired.spec.type ?? 'ClusterIP'})`,
      }),
    );
  }

  /** Applies `desired` unless the cached object carries the same applied hash; returns the freshest object. */
  async #applyIfChanged<T extends KubeObject>(desired: T, cached: T | undefined, onCreated?: () => void): Promise<T> {
    const hash = contentHash(desired);
    if (cached && cached.metadata.annotations?.[ANNOTATION_APPLIED_HASH] === hash && !cached.metadata.deletionTimestamp)
      return cached;
    desired.metadata.annotations = { ...desired.metadata.annotations, [ANNOTATION_APPLIED_HASH]: hash };
    const { object, created } = await this.#d.client.applyTelling(desired);
    if (created) onCreated?.();
    return object;
  }

  async #ensurePod(vbmc: VirtualBMC, service: Service): Promise<{ pod: Pod | undefined; result: HandlerResult }> {
    // The Service's events bring us back once it has its address (ClusterIP, or a LoadBalancer's external IP).
    const serviceIP = bmcAddress(service);
    if (!serviceIP) return { pod: undefined, result: { requeueAfterMs: WAIT_MS } };
    const desired = desiredPod(vbmc, { serviceIP, defaultImage: this.#d.defaultImage });
    const pod = this.#d.caches.pod(vbmc.metadata.namespace, desired.metadata.name);
    if (!pod) {
      const { object, created } = await this.#d.client.applyTelling(desired);
      if (created)
        this.#d.events.emit(vbmc, {
          type: 'Normal',
          reason: 'PodCreated',
          action: 'Create',
          note: `created agent pod ${desired.metadata.name}`,
        });
      return { pod: object, result: undefined };
    }
    if (pod.metadata.deletionTimestamp) return { pod, result: { requeueAfterMs: WAIT_MS } };
    const phase = pod.status?.phase;
    const changed =
      pod.metadata.annotations?.[ANNOTATION_POD_HASH] !== desired.metadata.annotations?.[ANNOTATION_POD_HASH];
    if (phase === 'Failed' || phase === 'Succeeded' || changed) {
      // Pods are immutable in the parts that matter: replace it. The delete event brings us back to create.
      this.#d.log.info(
        {
          pod: pod.metadata.name,
          namespace: vbmc.metadata.namespace,
          reason: changed ? 'spec changed' : `pod ${phase}`,
        },
        'replacing agent pod',
      );
      await this.#d.client.delete(pod, { uid: pod.metadata.uid });
      const parts = changedPodParts(
        pod.metadata.annotations?.[ANNOTATION_POD_PARTS],
        desired.metadata.annotations?.[ANNOTATION_POD_PARTS],
      );
      this.#d.events.emit(vbmc, {
        type: changed ? 'Normal' : 'Warning',
        reason: 'PodRecreating',
        action: 'Delete',
        note: changed
          ? `deleted agent pod ${pod.metadata.name} to recreate it: the VirtualBMC spec changed${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`
          : `deleted agent pod ${pod.metadata.name} to recreate it: it is ${phase}${pod.status?.message ? `: ${pod.status.message}` : ''}`,
      });
      return { pod, result: { requeueAfterMs: WAIT_MS } };
    }
    return { pod, result: undefined };
  }

  async #ensureLink(key: string, vbmc: VirtualBMC, service: Service, pod: Pod | undefined): Promise<void> {
    if (pod?.status?.phase !== 'Running' || pod.metadata.deletionTimestamp) {
      this.#d.links.drop(key);
      return;
    }
    const target = await this.#agentTarget(key, vbmc, service);
    if (target) this.#d.links.ensure(key, target);
  }

  async #agentTarget(key: string, vbmc: VirtualBMC, service: Service): Promise<AgentTarget | undefined> {
    const { namespace, name } = vbmc.metadata;
    const own = this.#d.caches.secret(namespace, childNames(name).secret);
    const cert = b64(own?.data?.[TLS_CERT_KEY]);
    if (!cert) return undefined;
    const source = credentialsSource(vbmc);
    let data = source.secretName === own?.metadata.name ? own.data : undefined;
    if (!data) {
      // A user-provided Secret is not in our label-selected cache: read it (only when the link is (re)built).
      if (this.#d.links.has(key)) return undefined;
      try {
        data = (await this.#d.client.get<Secret>('v1', 'Secret', namespace, source.secretName)).data;
      } catch (err) {
        if (isNotFound(err)) throw new Error(`credentials Secret ${source.secretName} not found`);
        throw err;
      }
    }
    const username = b64(data?.[source.usernameKey]);
    const password = b64(data?.[source.passwordKey]);
    if (!username || !password)
      throw new Error(`Secret ${source.secretName} lacks ${source.usernameKey} or ${source.passwordKey}`);
    const host = advertisedHost(service);
    const address =
      this.#d.agentEndpoints.get(key) ??
      (host ? `${host.includes(':') ? `[${host}]` : host}:${REDFISH_PORT}` : undefined);
    return address ? { address, cert, username, password } : undefined;
  }

  async #writeStatus(key: string, vbmc: VirtualBMC, status: VirtualBMCStatus): Promise<void> {
    if (statusUnchanged(vbmc.status, status)) return;
    const last = this.#written.get(key);
    if (last && last.beforeRV === vbmc.metadata.resourceVersion && statusUnchanged(last.status, status)) return;
    // Events diff against the status we last wrote: the cache can lag it by more than one write (a finalizer patch
    // in between changes the resourceVersion without bringing our status), and only we write the status.
    const before = last?.status ?? vbmc.status;
    try {
      await this.#d.client.apply(
        {
          apiVersion: API_VERSION,
          kind: KIND,
          metadata: { name: vbmc.metadata.name, namespace: vbmc.metadata.namespace },
          status,
        },
        { subresource: 'status' },
      );
      this.#written.set(key, { beforeRV: vbmc.metadata.resourceVersion, status });
      for (const event of statusEvents(before, status)) this.#d.events.emit(vbmc, event);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
