// The composition root's mapping from the agent's validated configuration to what Redfish needs.
import type { AgentConfig } from '../config.ts';
import { derivedMac, vmNicMacs } from '../qemu/identity.ts';
import type { RedfishConfig } from './config.ts';

export function redfishConfigFromAgent(config: AgentConfig, vmUuid: string, firmwareVersion?: string): RedfishConfig {
  const redfish: RedfishConfig = {
    port: config.redfish.port,
    stateDir: config.stateDir,
    sessionTimeoutSec: config.redfish.sessionTimeoutS,
    bmcAddress: config.bmcAddress,
    macAddress: config.bmcMac ?? derivedMac(vmUuid, 'bmc'),
    ipmiPort: config.ipmi.port,
    // Same source as the QEMU launch plan, so Redfish shows the MACs the guest really has.
    systemNicMacs: vmNicMacs(config.vm, vmUuid),
  };
  if (config.redfish.tlsCert) redfish.tlsCert = config.redfish.tlsCert;
  if (config.redfish.tlsKey) redfish.tlsKey = config.redfish.tlsKey;
  if (config.redfish.eventDestinations) redfish.eventDestinations = config.redfish.eventDestinations;
  if (firmwareVersion) redfish.firmwareVersion = firmwareVersion;
  return redfish;
}
