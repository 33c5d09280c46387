// LAN Configuration Parameters (IPMI 2.0 table 23-4) of channel 1. Parameters with a home in the BMC store are
// persisted through it; the rest are volatile (runtime).
import { type BmcState, Privilege, type PrivilegeLevel } from '../../bmc/types.ts';
import type { CommandContext } from '../types.ts';
import { CompletionCode } from '../types.ts';
import { ipv4Bytes, ipv4String, macBytes, u16le } from './bytes.ts';
import { CompletionError } from './errors.ts';
import { DEFAULT_PORT, exactly, NOT_SUPPORTED, READ_ONLY } from './parameters.ts';
import type { Runtime } from './runtime.ts';
import { updateState } from './table.ts';

/** LAN parameter 1: the IPMI 1.5 authentication types this BMC implements (MD5 only). */
const AUTH_TYPE_SUPPORT = 0x04;

/**
 * Parameter 20: VLAN ID low 8 bits, then enable bit 7 and the high 4 bits. A disabled VLAN reads back the ID the
 * client wrote with it (ipmitool `vlan id off` keeps the ID and verifies the write).
 */
function vlanBytes(vlanId: number, disabledId: number): number[] {
  const id = vlanId === 0 ? disabledId : vlanId;
  return [id & 0xff, (vlanId === 0 ? 0 : 0x80) | ((id >> 8) & 0x0f)];
}

/**
 * Parameter 24: one nibble per cipher suite entry, entry 0 in the low nibble of data 2; 0 marks an unused entry.
 * All 16 nibbles read back as written (ipmitool compares after `lan set cipher_privs`).
 */
export function cipherPrivilegeBytes(privileges: readonly PrivilegeLevel[]): number[] {
  const nibble = (i: number): number => {
    const p = privileges[i];
    return p !== undefined && p !== Privilege.NoAccess ? p : 0;
  };
  const out = [0];
  for (let i = 0; i < 16; i += 2) out.push(nibble(i) | (nibble(i + 1) << 4));
  return out;
}

export function getLan(rt: Runtime, ctx: CommandContext, param: number): number[] {
  const lan = ctx.store.state().lan;
  switch (param) {
    case 0:
      return [rt.setInProgress.lan];
    case 1:
      return [AUTH_TYPE_SUPPORT];
    case 2:
      return lan.authTypeEnables.map((b) => b & 0x3f);
    case 3:
      return ipv4Bytes(lan.ipAddress);
    case 4:
      return [lan.ipSource === 'dhcp' ? 0x02 : 0x01];
    case 5:
      return macBytes(lan.macAddress);
    case 6:
      return ipv4Bytes(lan.netmask);
    case 7:
      return rt.lan.ipv4Header;
    case 8:
      return u16le(rt.options.lanPort ?? DEFAULT_PORT);
    case 10:
      return [rt.lan.arpControl];
    case 11:
      return [rt.lan.garpInterval];
    case 12:
      return ipv4Bytes(lan.gateway);
    case 13:
      return rt.lan.gatewayMac;
    case 14:
      return rt.lan.backupGateway;
    case 15:
      return rt.lan.backupGatewayMac;
    case 16:
      return rt.lan.community;
    case 17:
      return [0]; // no alert destinations
    case 20:
      return vlanBytes(lan.vlanId, rt.lan.disabledVlanId);
    case 21:
      return [rt.lan.vlanPriority];
    case 22:
      return [Math.min(16, ctx.cipherSuites.length)];
    case 23:
      return [0, ...ctx.cipherSuites.slice(0, 16)];
    case 24:
      return cipherPrivilegeBytes(lan.cipherSuitePrivileges);
    default:
      throw new CompletionError(NOT_SUPPORTED, `LAN parameter ${param} not supported`);
  }
}

export async function setLan(rt: Runtime, ctx: CommandContext, param: number, data: Uint8Array): Promise<void> {
  const persist = (mutator: (lan: BmcState['lan']) => void): Promise<void> =>
    updateState(ctx, (draft) => mutator(draft.lan));
  switch (param) {
    case 0: {
      exactly(data, 1);
      const value = (data[0] ?? 0) & 0x03;
      if (value === 3)
        throw new CompletionError(CompletionCode.InvalidDataField, 'set-in-progress value 3 is reserved');
      rt.setInProgress.lan = value;
      return;
    }
    case 2:
      exactly(data, 5);
      if (data.some((b) => (b & 0x3f & ~AUTH_TYPE_SUPPORT) !== 0))
        throw new CompletionError(CompletionCode.InvalidDataField, 'only MD5 can be enabled');
      return persist((lan) => {
        lan.authTypeEnables = Array.from(data, (b) => b & AUTH_TYPE_SUPPORT);
      });
    case 3: {
      // The address is where the agent is reachable (BMC_ADDRESS, e.g. the Service IP), not something IPMI can move:
      // rewriting the same value succeeds (a checked-out config committed back), another one is refused.
      exactly(data, 4);
      const current = ctx.store.state().lan.ipAddress;
      if (ipv4String(data) !== current)
        throw new CompletionError(READ_ONLY, `the advertised address ${current} is set by configuration`);
      return;
    }
    case 4: {
      exactly(data, 1);
      const source = (data[0] ?? 0) & 0x0f;
      if (source !== 1 && source !== 2)
        throw new CompletionError(CompletionCode.InvalidDataField, 'IP source must be static or DHCP');
      return persist((lan) => {
        lan.ipSource = source === 2 ? 'dhcp' : 'static';
      });
    }
    case 6:
      exactly(data, 4);
      return persist((lan) => {
        lan.netmask = ipv4String(data);
      });
    case 7:
      exactly(data, 3);
      rt.lan.ipv4Header = Array.from(data);
      return;
    case 10:
      exactly(data, 1);
      rt.lan.arpControl = (data[0] ?? 0) & 0x03;
      return;
    case 11:
      exactly(data, 1);
      rt.lan.garpInterval = data[0] ?? 0;
      return;
    case 12:
      exactly(data, 4);
      return persist((lan) => {
        lan.gateway = ipv4String(data);
      });
    case 13:
      exactly(data, 6);
      rt.lan.gatewayMac = Array.from(data);
      return;
    case 14:
      exactly(data, 4);
      rt.lan.backupGateway = Array.from(data);
      return;
    case 15:
      exactly(data, 6);
      rt.lan.backupGatewayMac = Array.from(data);
      return;
    case 16:
      exactly(data, 18);
      rt.lan.community = Array.from(data);
      return;
    case 20: {
      exactly(data, 2);
      const enabled = ((data[1] ?? 0) & 0x80) !== 0;
      const id = ((data[1] ?? 0) & 0x0f) * 256 + (data[0] ?? 0);
      if (enabled && (id < 1 || id > 4094))
        throw new CompletionError(CompletionCode.InvalidDataField, 'VLAN ID must be 1..4094');
      await persist((lan) => {
        lan.vlanId = enabled ? id : 0;
      });
      rt.lan.disabledVlanId = enabled ? 0 : id;
      return;
    }
    case 21:
      exactly(data, 1);
      rt.lan.vlanPriority = (data[0] ?? 0) & 0x07;
      return;
    case 24: {
      exactly(data, 9);
      const levels: number[] = [];
      for (let i = 1; i < 9; i++) levels.push((data[i] ?? 0) & 0x0f, (data[i] ?? 0) >> 4);
      if (levels.some((l) => l > Privilege.Oem))
        throw new CompletionError(CompletionCode.InvalidDataField, 'bad privilege level');
      return persist((lan) => {
        // 0 ("unused") makes the entry unusable: stored as NoAccess.
        lan.cipherSuitePrivileges = levels.map((l) => (l === 0 ? Privilege.NoAccess : (l as PrivilegeLevel)));
      });
    }
    case 1:
    case 5: // the MAC is derived from the BMC's identity and must stay stable
    case 8:
    case 17:
    case 22:
    case 23:
      throw new CompletionError(READ_ONLY, `LAN parameter ${param} is read-only`);
    default:
      throw new CompletionError(NOT_SUPPORTED, `LAN parameter ${param} not supported`);
  }
}
