// The agent link: power state and boot override flow from each agent to the operator over the agent's Redfish
// event stream (SSE), not by polling. On connect and on every event the operator reads Systems/1 once, so the
// event format does not matter and a missed event is impossible to miss for long (the next one re-reads all).
// One open HTTPS stream per BMC, only on the leader. See docs/operator.md for the cost at 1,000 BMCs.
import type { BootOverrideStatus } from '../api/types.ts';
import type { Logger } from '../log.ts';
import type { AgentObservation } from '../reconcile/status.ts';
import { type AgentTarget, type EventStream, getJson, openEventStream } from './redfish.ts';

export const SYSTEM_PATH = '/redfish/v1/Systems/1';
export const SSE_PATH = '/redfish/v1/EventService/SSE';
const IDLE_MS = 45_000; // the agent sends a keep-alive every 15 s
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;

/** What the operator keeps from Systems/1. */
export function observationFromSystem(system: Record<string, unknown>): AgentObservation {
  const boot = (system['Boot'] ?? {}) as Record<string, unknown>;
  const bootOverride: BootOverrideStatus = {};
  if (typeof boot['BootSourceOverrideTarget'] === 'string') bootOverride.target = boot['BootSourceOverrideTarget'];
  if (typeof boot['BootSourceOverrideEnabled'] === 'string') bootOverride.enabled = boot['BootSourceOverrideEnabled'];
  if (typeof boot['BootSourceOverrideMode'] === 'string') bootOverride.mode = boot['BootSourceOverrideMode'];
  const power = system['PowerState'];
  return {
    reachable: true,
    ...(typeof power === 'string' ? { powerState: power } : {}),
    ...(Object.keys(bootOverride).length > 0 ? { bootOverride } : {}),
  };
}

const same = (a: AgentObservation | undefined, b: AgentObservation) => JSON.stringify(a) === JSON.stringify(b);

class Link {
  readonly #key: string;
  readonly #target: AgentTarget;
  readonly #log: Logger;
  readonly #changed: (key: string) => void;
  #stream: EventStream | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #failures = 0;
  #refreshing = false;
  #refreshAgain = false;
  observation: AgentObservation | undefined;

  constructor(key: string, target: AgentTarget, log: Logger, changed: (key: string) => void) {
    this.#key = key;
    this.#target = target;
    this.#log = log;
    this.#changed = changed;
    this.#connect();
  }

  #set(next: AgentObservation): void {
    if (this.#closed || same(this.observation, next)) return;
    this.observation = next;
    this.#changed(this.#key);
  }

  #connect(): void {
    if (this.#closed) return;
    this.#stream = openEventStream(
      this.#target,
      SSE_PATH,
      IDLE_MS,
      () => {
        this.#failures = 0;
        void this.#refresh(); // state at subscription time; later changes arrive as events
      },
      () => void this.#refresh(),
      (err) => this.#disconnected(err),
    );
  }

  /** Reads Systems/1; concurrent triggers coalesce into one more read after the current one. */
  async #refresh(): Promise<void> {
    if (this.#refreshing) {
      this.#refreshAgain = true;
      return;
    }
    this.#refreshing = true;
    try {
      do {
        this.#refreshAgain = false;
        const system = await getJson(this.#target, SYSTEM_PATH);
        this.#set(observationFromSystem(system));
      } while (this.#refreshAgain && !this.#closed);
    } catch (err) {
      this.#stream?.close();
      this.#disconnected(err as Error);
    } finally {
      this.#refreshing = false;
    }
  }

  #disconnected(err: Error): void {
    if (this.#closed) return;
    this.#stream = undefined;
    this.#failures++;
    this.#set({ reachable: false, error: err.message });
    clearTimeout(this.#timer);
    const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(this.#failures - 1, 10));
    this.#log.debug({ key: this.#key, err: err.message, retryInMs: delay }, 'agent link down');
    this.#timer = setTimeout(() => this.#connect(), delay);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#stream?.close();
  }
}

export class AgentLinks {
  readonly #links = new Map<string, { link: Link; fingerprint: string }>();
  readonly #log: Logger;
  readonly #changed: (key: string) => void;

  /** changed(key) is called whenever what an agent reports changes. */
  constructor(log: Logger, changed: (key: string) => void) {
    this.#log = log;
    this.#changed = changed;
  }

  /** Keeps one link to the agent at target; a different target (address, cert, credentials) reconnects. */
  ensure(key: string, target: AgentTarget): void {
    const fingerprint = JSON.stringify(target);
    const current = this.#links.get(key);
    if (current?.fingerprint === fingerprint) return;
    current?.link.close();
    this.#links.set(key, { link: new Link(key, target, this.#log, this.#changed), fingerprint });
  }

  has(key: string): boolean {
    return this.#links.has(key);
  }

  observation(key: string): AgentObservation | undefined {
    return this.#links.get(key)?.link.observation;
  }

  drop(key: string): void {
    this.#links.get(key)?.link.close();
    this.#links.delete(key);
  }

  counts(): { connected: number; disconnected: number } {
    let connected = 0;
    for (const { link } of this.#links.values()) if (link.observation?.reachable) connected++;
    return { connected, disconnected: this.#links.size - connected };
  }

  closeAll(): void {
    for (const key of [...this.#links.keys()]) this.drop(key);
  }
}
