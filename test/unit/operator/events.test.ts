// Events: which status transitions are worth one (reconcile/events.ts), how repeats are keyed, deduplicated into a
// series and rate-limited (kube/events.ts), and how a pod replacement names what changed (reconcile/pod.ts).
import { describe, expect, it } from 'vitest';
import {
  BoundedLru,
  DEDUPE_WINDOW_MS,
  type EventSpec,
  eventKey,
  microTime,
  NOTE_MAX_BYTES,
  observe,
  type Seen,
  TokenBuckets,
  truncateNote,
} from '../../../operator/src/kube/events.ts';
import type { Pod, Service } from '../../../operator/src/kube/objects.ts';
import { statusEvents } from '../../../operator/src/reconcile/events.ts';
import { changedPodParts, desiredPod } from '../../../operator/src/reconcile/pod.ts';
import { computeStatus } from '../../../operator/src/reconcile/status.ts';
import { vbmc } from './fixtures.ts';

const service: Service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'node1-bmc', namespace: 'lab' },
  spec: { type: 'ClusterIP', clusterIP: '10.96.0.42' },
};

const pod = (phase: string, extra: Partial<NonNullable<Pod['status']>> = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'node1-bmc', namespace: 'lab' },
  spec: { nodeName: 'kwok-node-0' },
  status: { phase, conditions: [{ type: 'PodScheduled', status: 'True' }], ...extra },
});

const now = '2026-11-26T08:00:00Z';
const reasons = (events: EventSpec[]) => events.map((e) => `${e.type}/${e.reason}`);

describe('status events', () => {
  const v = vbmc();
  const pending = computeStatus({ vbmc: v, service, pod: pod('Pending'), now });
  const withStatus = (status: typeof pending) => ({ ...v, status });
  const ready = (power: string) =>
    computeStatus({
      vbmc: withStatus(pending),
      service,
      pod: pod('Running'),
      agent: { reachable: true, powerState: power },
      now,
    });

  it('the first status of a new object records nothing unless it is Ready', () => {
    expect(statusEvents(undefined, pending)).toEqual([]);
    expect(reasons(statusEvents(undefined, ready('Off')))).toEqual(['Normal/Ready', 'Normal/PowerOff']);
  });

  it('an unchanged status records nothing', () => {
    const again = computeStatus({ vbmc: withStatus(pending), service, pod: pod('Pending'), now: 'later' });
    expect(statusEvents(pending, again)).toEqual([]);
    expect(statusEvents(ready('On'), ready('On'))).toEqual([]);
  });

  it('becoming Ready, and losing the agent afterwards (a Warning with the status message)', () => {
    const r = ready('Off');
    expect(statusEvents(pending, r)).toEqual([
      { type: 'Normal', reason: 'Ready', action: 'StatusChange', note: 'Ready: the BMC answers on its endpoints' },
      {
        type: 'Normal',
        reason: 'PowerOff',
        action: 'PowerChange',
        note: 'the agent reports the VM powered off',
      },
    ]);
    const lost = computeStatus({
      vbmc: withStatus(r),
      service,
      pod: pod('Running'),
      agent: { reachable: false, error: 'connect ECONNREFUSED 127.0.0.1:8443' },
      now,
    });
    expect(statusEvents(r, lost)).toEqual([
      {
        type: 'Warning',
        reason: 'AgentUnreachable',
        action: 'StatusChange',
        note: 'not Ready (was Ready): connect ECONNREFUSED 127.0.0.1:8443',
      },
    ]);
  });

  it('a reason change while not Ready is Normal; a message change alone is nothing', () => {
    const running = computeStatus({
      vbmc: withStatus(pending),
      service,
      pod: pod('Running'),
      agent: { reachable: false, error: 'a' },
      now,
    });
    expect(reasons(statusEvents(pending, running))).toEqual(['Normal/AgentUnreachable']);
    const other = computeStatus({
      vbmc: withStatus(running),
      service,
      pod: pod('Running'),
      agent: { reachable: false, error: 'b' },
      now,
    });
    expect(statusEvents(running, other)).toEqual([]);
  });

  it('power changes reported by the agent: PowerOn, PowerOff', () => {
    expect(statusEvents(ready('Off'), ready('On'))).toEqual([
      {
        type: 'Normal',
        reason: 'PowerOn',
        action: 'PowerChange',
        note: 'the agent reports the VM powered on',
      },
    ]);
    expect(reasons(statusEvents(ready('On'), ready('Off')))).toEqual(['Normal/PowerOff']);
    expect(statusEvents(ready('Off'), ready('PoweringOn'))).toEqual([]);
  });

  it('pod failures the status detects are Warnings; a failed reconcile is not recorded here', () => {
    const pulling = computeStatus({
      vbmc: withStatus(pending),
      service,
      pod: pod('Pending', {
        containerStatuses: [
          { name: 'agent', state: { waiting: { reason: 'ImagePullBackOff', message: 'no such image' } } },
        ],
      }),
      now,
    });
    expect(statusEvents(pending, pulling)).toEqual([
      { type: 'Warning', reason: 'ImagePullBackOff', action: 'StatusChange', note: 'agent: no such image' },
    ]);
    expect(statusEvents(pulling, pulling)).toEqual([]);
    const failed = computeStatus({ vbmc: withStatus(pending), service, pod: pod('Pending'), reconcileError: 'x', now });
    expect(statusEvents(pending, failed)).toEqual([]);
  });
});

describe('event deduplication and rate limits', () => {
  const v = vbmc();
  const e: EventSpec = { type: 'Normal', reason: 'PodCreated', action: 'Create', note: 'created agent pod node1-bmc' };

  it('keys on the object (including its uid) and the whole event', () => {
    expect(eventKey(v, e)).toBe(eventKey(vbmc(), { ...e }));
    expect(eventKey(v, e)).not.toBe(eventKey(v, { ...e, note: 'other' }));
    expect(eventKey(v, e)).not.toBe(eventKey(v, { ...e, reason: 'Other' }));
    expect(eventKey(v, e)).not.toBe(eventKey(v, { ...e, type: 'Warning' }));
    expect(eventKey(v, e)).not.toBe(eventKey(vbmc({}, { uid: 'another' }), e));
    expect(eventKey(v, e)).not.toBe(eventKey(vbmc({}, { name: 'node2' }), e));
    // The resourceVersion changes with every status write: the same event on a newer version is still the same.
    expect(eventKey(v, e)).toBe(eventKey(vbmc({}, { resourceVersion: '99' }), e));
  });

  it('a repeat within 10 minutes is a series; later, a new event', () => {
    const seen = new BoundedLru<Seen>(10);
    const key = eventKey(v, e);
    expect(observe(seen, key, 0).write).toBe('create');
    const second = observe(seen, key, 60_000);
    expect(second.write).toBe('series');
    expect(second.entry.count).toBe(2);
    expect(observe(seen, key, 60_000 + DEDUPE_WINDOW_MS).entry.count).toBe(3);
    expect(observe(seen, key, 60_001 + 2 * DEDUPE_WINDOW_MS)).toMatchObject({ write: 'create', entry: { count: 1 } });
  });

  it('remembers a bounded number of events, forgetting the least recently used', () => {
    const seen = new BoundedLru<Seen>(2);
    observe(seen, 'a', 0);
    observe(seen, 'b', 0);
    observe(seen, 'a', 1); // a is now the most recent
    observe(seen, 'c', 2);
    expect(seen.size).toBe(2);
    expect(observe(seen, 'a', 3).write).toBe('series');
    expect(observe(seen, 'b', 3).write).toBe('create');
  });

  it('rate-limits per object: a burst, then one per refill period', () => {
    const buckets = new TokenBuckets(3, 1_000, 10);
    expect([0, 0, 0, 0].map(() => buckets.take('u1', 0))).toEqual([true, true, true, false]);
    expect(buckets.take('u2', 0)).toBe(true);
    expect(buckets.take('u1', 999)).toBe(false);
    expect(buckets.take('u1', 1_000)).toBe(true);
    expect(buckets.take('u1', 1_500)).toBe(false);
    expect([0, 0, 0, 0].map(() => buckets.take('u1', 100_000))).toEqual([true, true, true, false]);
  });

  it('writes MicroTime with six fractional digits and cuts notes at 1 KiB', () => {
    expect(microTime(Date.UTC(2026, 10, 26, 8, 0, 0, 123))).toBe('2026-11-26T08:00:00.123000Z');
    const long = truncateNote('é'.repeat(2000));
    expect(Buffer.byteLength(long)).toBeLessThanOrEqual(NOTE_MAX_BYTES);
    expect(long.endsWith('...')).toBe(true);
    expect(truncateNote('short')).toBe('short');
  });
});

describe('pod parts', () => {
  const inputs = { serviceIP: '10.96.0.42', defaultImage: 'img:1' };
  const parts = (p: Pod) => p.metadata.annotations?.['qemu-bmc.dev/pod-parts'];

  it('name what changed between two desired pods', () => {
    const before = parts(desiredPod(vbmc(), inputs));
    expect(changedPodParts(before, parts(desiredPod(vbmc(), inputs)))).toEqual([]);
    expect(changedPodParts(before, parts(desiredPod(vbmc({ vm: { cpus: 3, disks: [] } }), inputs)))).toEqual([
      'VM_CPUS',
      'VM_DISK',
      'VM_DISK_SIZE',
      'volumes',
      'pod',
    ]);
    expect(changedPodParts(before, parts(desiredPod(vbmc({ agent: { image: 'img:2' } }), inputs)))).toEqual(['image']);
    expect(changedPodParts(before, parts(desiredPod(vbmc(), { ...inputs, serviceIP: '10.96.0.43' })))).toEqual([
      'BMC_ADDRESS',
    ]);
    // A pod from before the annotation existed: nothing known.
    expect(changedPodParts(undefined, before)).toEqual([]);
  });
});
