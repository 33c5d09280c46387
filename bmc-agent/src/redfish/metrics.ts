// Prometheus metrics of the Redfish service, registered on the agent's registry.
import { Counter, Gauge, type Registry } from 'prom-client';

export interface RedfishMetrics {
  requests: Counter<'method' | 'route' | 'status'>;
  sessions: Gauge;
  powerActions: Counter<'type' | 'result'>;
  eventDeliveries: Counter<'result'>;
}

/** `openSessions` is read at scrape time, so expired sessions never linger in the gauge. */
export function createRedfishMetrics(registry: Registry, openSessions: () => number): RedfishMetrics {
  return {
    requests: new Counter({
      name: 'redfish_requests_total',
      help: 'Redfish HTTP requests by method, route template and status code',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    sessions: new Gauge({
      name: 'redfish_sessions_active',
      help: 'Redfish sessions currently open',
      registers: [registry],
      collect() {
        this.set(openSessions());
      },
    }),
    powerActions: new Counter({
      name: 'redfish_power_actions_total',
      help: 'ComputerSystem.Reset actions by ResetType and result',
      labelNames: ['type', 'result'],
      registers: [registry],
    }),
    eventDeliveries: new Counter({
      name: 'redfish_event_deliveries_total',
      help: 'Push events per subscriber by outcome: delivered, failed (after retries), refused-by-policy (REDFISH_EVENT_DESTINATIONS)',
      labelNames: ['result'],
      registers: [registry],
    }),
  };
}
