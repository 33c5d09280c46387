// Prometheus metrics of the operator, on their own registry.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface MetricSources {
  queueDepth: () => number;
  /** Number of VirtualBMCs per reported power state. */
  powerStates: () => Map<string, number>;
  agentLinks: () => { connected: number; disconnected: number };
  isLeader: () => boolean;
}

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'qemu_bmc_operator_' });
  let sources: MetricSources | undefined;
  const reconciles = new Counter({
    name: 'qemu_bmc_operator_reconcile_total',
    help: 'Reconciles by result (success, error).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'qemu_bmc_operator_reconcile_errors_total',
    help: 'Reconciles that failed and were requeued with backoff.',
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'qemu_bmc_operator_reconcile_duration_seconds',
    help: 'Time spent in one reconcile.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const writes = new Counter({
    name: 'qemu_bmc_operator_apiserver_writes_total',
    help: 'Write requests the operator sent to the apiserver, by verb and kind.',
    labelNames: ['verb', 'kind'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'qemu_bmc_operator_workqueue_depth',
    help: 'Keys waiting in the work queue.',
    registers: [registry],
    collect() {
      this.set(sources?.queueDepth() ?? 0);
    },
  });
  new Gauge({
    name: 'qemu_bmc_operator_virtualbmcs',
    help: 'VirtualBMCs by reported power state.',
    labelNames: ['power_state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [state, n] of sources?.powerStates() ?? []) this.set({ power_state: state }, n);
    },
  });
  new Gauge({
    name: 'qemu_bmc_operator_agent_links',
    help: 'Event-stream links to agents by state.',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const links = sources?.agentLinks() ?? { connected: 0, disconnected: 0 };
      this.set({ state: 'connected' }, links.connected);
      this.set({ state: 'disconnected' }, links.disconnected);
    },
  });
  new Gauge({
    name: 'qemu_bmc_operator_is_leader',
    help: '1 while this replica holds the leader lease.',
    registers: [registry],
    collect() {
      this.set(sources?.isLeader() ? 1 : 0);
    },
  });
  return {
    registry,
    reconciles,
    errors,
    duration,
    writes,
    setSources(s: MetricSources) {
      sources = s;
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
