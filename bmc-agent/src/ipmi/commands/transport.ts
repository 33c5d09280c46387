// Transport netFn (0Ch): LAN Configuration Parameters (IPMI 2.0 table 23-4) and SOL Configuration Parameters
// (table 26-5). Parameters with a home in the BMC store are persisted through it; the rest are volatile.
import { type BmcState, Privilege, type PrivilegeLevel } from '../../bmc/types.ts';
import { Channel, type CommandContext, CompletionCode, type IpmiRequest } from '../types.ts';
import { byteAt, ipv4Bytes, ipv4String, macBytes, ok, u16le } from './bytes.ts';
import { CompletionError } from './errors.ts';
import type { Runtime } from './runtime.ts';
import { type CommandSpec, command, NetFn, resolveChannel, updateState } from './table.ts';

const PARAMETER_REVISION = 0x11;
const NOT_SUPPORTED = 0x80;
const READ_ONLY = 0x82;
/** LAN parameter 1: the IPMI 1.5 authentication types this BMC implements (MD5 only). */
const AUTH_TYPE_SUPPORT = 0x04;
const DEFAULT_PORT = 623;

/** SOL bit rates (table 26-5, parameter 5) accepted: serial default, 9600, 19.2k, 38.4k, 57.6k, 115.2k. */
const SOL_BIT_RATES = new Set([0x00, 0x06, 0x07, 0x08, 0x09, 0x0a]);

function lanChannel(req: IpmiRequest, ctx: CommandContext): number {
  const channel = resolveChannel(byteAt(req.data, 0), ctx, req.channel);
  // In-band, "this channel" for LAN parameters means the LAN channel (there is only one).
  if (channel === Channel.SystemInterface && (byteAt(req.data, 0) & 0x0f) === 0x0e) return Channel.Lan;
  if (channel !== Channel.Lan)
    throw new CompletionError(CompletionCode.InvalidDataField, `channel ${channel} is not LAN`);
  return channel;
}

function exactly(data: Uint8Array, n: number): void {
  if (data.length !== n)
    throw new CompletionError(CompletionCode.RequestDataLengthInvalid, `parameter takes ${n} bytes`);
}

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

function getLan(rt: Runtime, ctx: CommandContext, param: number): number[] {
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

async function setLan(rt: Runtime, ctx: CommandContext, param: number, data: Uint8Array): Promise<void> {
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

function getSol(rt: Runtime, ctx: CommandContext, param: number): number[] {
  const sol = ctx.store.state().sol;
  switch (param) {
    case 0:
      return [rt.setInProgress.sol];
    case 1:
      return [sol.enabled ? 1 : 0];
    case 2:
      return [(sol.forceEncryption ? 0x80 : 0) | (sol.forceAuthentication ? 0x40 : 0) | (sol.privilege & 0x0f)];
    case 3:
      return [Math.round(sol.characterAccumulateMs / 5), sol.characterSendThreshold];
    case 4:
      return [sol.retryCount & 0x07, Math.round(sol.retryIntervalMs / 10)];
    case 5:
    case 6:
      return [sol.baudRate & 0x0f];
    case 7:
      return [Channel.Lan];
    case 8:
      return u16le(rt.options.lanPort ?? DEFAULT_PORT);
    default:
      throw new CompletionError(NOT_SUPPORTED, `SOL parameter ${param} not supported`);
  }
}

async function setSol(rt: Runtime, ctx: CommandContext, param: number, data: Uint8Array): Promise<void> {
  const persist = (mutator: (sol: BmcState['sol']) => void): Promise<void> =>
    updateState(ctx, (draft) => mutator(draft.sol));
  const b0 = data[0] ?? 0;
  switch (param) {
    case 0:
      exactly(data, 1);
      if ((b0 & 0x03) === 3)
        throw new CompletionError(CompletionCode.InvalidDataField, 'set-in-progress value 3 is reserved');
      rt.setInProgress.sol = b0 & 0x03;
      return;
    case 1:
      exactly(data, 1);
      return persist((sol) => {
        sol.enabled = (b0 & 0x01) !== 0;
      });
    case 2: {
      exactly(data, 1);
      const level = b0 & 0x0f;
      if (level < Privilege.User || level > Privilege.Oem)
        throw new CompletionError(CompletionCode.InvalidDataField, 'SOL privilege must be User..OEM');
      return persist((sol) => {
        sol.forceEncryption = (b0 & 0x80) !== 0;
        sol.forceAuthentication = (b0 & 0x40) !== 0;
        sol.privilege = level as PrivilegeLevel;
      });
    }
    case 3:
      exactly(data, 2);
      if (b0 === 0)
        throw new CompletionError(CompletionCode.InvalidDataField, 'accumulate interval must be at least 1');
      return persist((sol) => {
        sol.characterAccumulateMs = b0 * 5;
        sol.characterSendThreshold = data[1] ?? 0;
      });
    case 4:
      exactly(data, 2);
      return persist((sol) => {
        sol.retryCount = b0 & 0x07;
        sol.retryIntervalMs = (data[1] ?? 0) * 10;
      });
    case 5:
    case 6:
      exactly(data, 1);
      if (!SOL_BIT_RATES.has(b0 & 0x0f))
        throw new CompletionError(CompletionCode.InvalidDataField, 'unsupported bit rate');
      return persist((sol) => {
        sol.baudRate = b0 & 0x0f;
      });
    case 7:
    case 8:
      throw new CompletionError(READ_ONLY, `SOL parameter ${param} is read-only`);
    default:
      throw new CompletionError(NOT_SUPPORTED, `SOL parameter ${param} not supported`);
  }
}

export function transportCommands(rt: Runtime): CommandSpec[] {
  const transport = { netFn: NetFn.Transport };
  const getter =
    (read: (rt: Runtime, ctx: CommandContext, param: number) => number[]) =>
    (req: IpmiRequest, ctx: CommandContext) => {
      lanChannel(req, ctx);
      const revisionOnly = (byteAt(req.data, 0) & 0x80) !== 0;
      const param = byteAt(req.data, 1);
      const data = read(rt, ctx, param); // also for revision-only, so unsupported parameters answer 80h
      return ok(revisionOnly ? [PARAMETER_REVISION] : [PARAMETER_REVISION, ...data]);
    };
  const setter =
    (write: (rt: Runtime, ctx: CommandContext, param: number, data: Uint8Array) => Promise<void>) =>
    async (req: IpmiRequest, ctx: CommandContext) => {
      lanChannel(req, ctx);
      await write(rt, ctx, byteAt(req.data, 1), req.data.subarray(2));
      return ok();
    };
  return [
    command(
      {
        ...transport,
        cmd: 0x01,
        name: 'Set LAN Configuration Parameters',
        privilege: Privilege.Administrator,
        length: [3, 34],
      },
      setter(setLan),
    ),
    command(
      { ...transport, cmd: 0x02, name: 'Get LAN Configuration Parameters', privilege: Privilege.Operator, length: 4 },
      getter(getLan),
    ),
    command(
      {
        ...transport,
        cmd: 0x21,
        name: 'Set SOL Configuration Parameters',
        privilege: Privilege.Administrator,
        length: [3, 18],
      },
      setter(setSol),
    ),
    command(
      { ...transport, cmd: 0x22, name: 'Get SOL Configuration Parameters', privilege: Privilege.User, length: 4 },
      getter(getSol),
    ),
  ];
}
