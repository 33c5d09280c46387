// What the Redfish service needs from the agent's configuration; main.ts maps env config to this.
export interface RedfishConfig {
  /** HTTPS port (REDFISH_PORT); 0 picks a free port. */
  port: number;
  /** Listen address; default all interfaces. */
  host?: string;
  /** PEM file paths (TLS_CERT / TLS_KEY); both unset → a self-signed pair kept in stateDir. */
  tlsCert?: string;
  tlsKey?: string;
  /** Agent state directory; holds the generated certificate. */
  stateDir: string;
  /** Idle timeout of Redfish sessions, seconds (30..86400). */
  sessionTimeoutSec: number;
  /** Most concurrent sessions; default 64. */
  maxSessions?: number;
  /** Address clients use to reach this BMC (shown in EthernetInterfaces). */
  bmcAddress: string;
  /** MAC address shown for the BMC's interface. */
  macAddress: string;
  /** MAC addresses of the VM's NICs, in QEMU order (Systems/1/EthernetInterfaces; Ironic inspection reads them). */
  systemNicMacs?: string[];
  /** IPMI LAN port shown in NetworkProtocol; omitted when IPMI over LAN is off. */
  ipmiPort?: number;
  /** Largest accepted request body, bytes; default 64 KiB (Redfish bodies are small). */
  bodyLimitBytes?: number;
  /** Where push events may go (REDFISH_EVENT_DESTINATIONS): CIDRs, IPs, hostnames; unset = anywhere. */
  eventDestinations?: string[];
  /** Firmware version string shown on the Manager. */
  firmwareVersion?: string;
}

export const DEFAULT_MAX_SESSIONS = 64;
export const DEFAULT_BODY_LIMIT = 64 * 1024;
export const SESSION_TIMEOUT_MIN = 30;
export const SESSION_TIMEOUT_MAX = 86_400;
