// The composition root's mapping from the agent's configuration to the Redfish service's.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../bmc-agent/src/config.ts';
import { derivedMac } from '../../../bmc-agent/src/qemu/identity.ts';
import { redfishConfigFromAgent } from '../../../bmc-agent/src/redfish/from-agent-config.ts';

const host = { primaryIPv4: () => '192.0.2.7' };
const uuid = '0f3a2c1e-5b4d-4e6f-8a9b-0c1d2e3f4a5b';

describe('redfishConfigFromAgent', () => {
  it('maps ports, state dir, session timeout, addresses and the VM NIC MACs', () => {
    const config = parseConfig(
      {
        STATE_DIR: '/var/lib/qemu-bmc',
        REDFISH_PORT: '8443',
        IPMI_PORT: '6230',
        REDFISH_SESSION_TIMEOUT: '600',
        BMC_ADDRESS: '10.1.2.3',
        VM_NETWORKS: 'user,tap0',
      },
      host,
    );
    const r = redfishConfigFromAgent(config, uuid, '1.2.3');
    expect(r).toEqual({
      port: 8443,
      stateDir: '/var/lib/qemu-bmc',
      sessionTimeoutSec: 600,
      bmcAddress: '10.1.2.3',
      macAddress: derivedMac(uuid, 'bmc'),
      ipmiPort: 6230,
      systemNicMacs: [derivedMac(uuid, 'nic0'), derivedMac(uuid, 'nic1')],
      firmwareVersion: '1.2.3',
    });
  });

  it('passes TLS files and a configured BMC MAC through', () => {
    const config = parseConfig(
      { STATE_DIR: '/s', TLS_CERT: '/etc/tls/c.pem', TLS_KEY: '/etc/tls/k.pem', BMC_MAC: '02:11:22:33:44:55' },
      host,
    );
    const r = redfishConfigFromAgent(config, uuid);
    expect(r).toMatchObject({ tlsCert: '/etc/tls/c.pem', tlsKey: '/etc/tls/k.pem', macAddress: '02:11:22:33:44:55' });
    expect(r.systemNicMacs).toEqual([]);
  });
});
