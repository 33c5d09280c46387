// Prometheus metrics (prom-client): one Registry per agent, default process metrics, and the machine's counters.
// Front ends add their own (requests by route, sessions) to the same registry.
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { Machine, PowerState } from './machine/types.ts';

export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

export interface MachineMetrics {
  powerActions: Counter<'type' | 'result'>;
}

/** The power action counter (fed by the machine's onPowerAction) and a power state gauge; call once per machine. */
export function instrumentMachine(registry: Registry, machine: Machine): MachineMetrics {
  const powerActions = new Counter({
    name: 'bmc_power_actions_total',
    help: 'Power actions requested through any front end, by reset type and result',
    labelNames: ['type', 'result'] as const,
    registers: [registry],
  });
  const states: PowerState[] = ['On', 'Off', 'PoweringOn', 'PoweringOff'];
  new Gauge({
    name: 'bmc_power_state',
    help: 'Current power state of the VM (1 for the current state, 0 for the others)',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const current = machine.powerState();
      for (const s of states) this.set({ state: s }, s === current ? 1 : 0);
    },
  });
  return { powerActions };
}
