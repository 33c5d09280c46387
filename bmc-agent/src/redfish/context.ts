// Everything a Redfish resource handler may use; built once by createRedfishApp.
import type { Logger } from 'pino';
import type { BmcStore } from '../bmc/types.ts';
import type { Machine } from '../machine/types.ts';
import type { AccountRevisions } from './account-revisions.ts';
import type { RedfishConfig } from './config.ts';
import type { EventHub } from './events.ts';
import type { RedfishMetrics } from './metrics.ts';
import type { SessionTable } from './sessions.ts';
import type { SubscriptionTable } from './subscriptions.ts';

export interface RedfishContext {
  config: RedfishConfig;
  log: Logger;
  machine: Machine;
  store: BmcStore;
  sessions: SessionTable;
  metrics: RedfishMetrics;
  events: EventHub;
  subscriptions: SubscriptionTable;
  accountRevisions: AccountRevisions;
  /** The HTTPS port really listened on (config.port may be 0). */
  listenPort: number;
  /** Called by Manager.Reset after sessions are dropped; the agent may restart services. */
  onManagerReset?: () => Promise<void>;
}

export const SYSTEM = '/redfish/v1/Systems/1';
export const MANAGER = '/redfish/v1/Managers/1';
export const CHASSIS = '/redfish/v1/Chassis/1';

/** The @odata.* triple every resource carries. */
export function odataMeta(id: string, type: string): Record<string, string> {
  // type is '#Namespace.vX.Type'; the context names the unversioned type.
  const m = /^#([^.]+)\.(?:v\d+_\d+_\d+\.)?(.+)$/.exec(type);
  const context = m ? `${m[1]}.${m[2]}` : type.slice(1);
  return { '@odata.context': `/redfish/v1/$metadata#${context}`, '@odata.id': id, '@odata.type': type };
}

export const link = (id: string) => ({ '@odata.id': id });
