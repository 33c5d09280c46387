// App netFn channel commands (IPMI 2.0 sections 22.12-22.24): authentication capabilities, cipher suites,
// channel access, channel info, payload support. Channel 1 is the 802.3 LAN; 0x0F the system interface (in-band).
import { Privilege, type PrivilegeLevel } from '../../bmc/types.ts';
import { Channel, type CommandContext, CompletionCode, type IpmiRequest } from '../types.ts';
import { byteAt, fail, ok } from './bytes.ts';
import { CompletionError } from './errors.ts';
import type { Runtime } from './runtime.ts';
import { type CommandSpec, command, NetFn, resolveChannel, updateState } from './table.ts';

/** IANA number of the IPMI Forum, used where the spec asks for "vendor" of an IPMI-defined item. */
const IPMI_FORUM_IANA = [0xf2, 0x1b, 0x00];

/** Cipher suite algorithms by ID (IPMI 2.0 table 22-20): [authentication, integrity, confidentiality]. */
export const CIPHER_SUITE_ALGORITHMS: Readonly<Record<number, readonly [number, number, number]>> = {
  0: [0, 0, 0],
  1: [1, 0, 0],
  2: [1, 1, 0],
  3: [1, 1, 1],
  6: [2, 0, 0],
  7: [2, 2, 0],
  8: [2, 2, 1],
  11: [2, 3, 0],
  12: [2, 3, 1],
  15: [3, 0, 0],
  16: [3, 4, 0],
  17: [3, 4, 1],
};

/** The cipher suite record stream of table 22-19 (start-of-record C0h, ID, then tagged algorithm numbers). */
export function cipherSuiteRecords(ids: readonly number[]): number[] {
  const out: number[] = [];
  for (const id of ids) {
    const alg = CIPHER_SUITE_ALGORITHMS[id];
    if (!alg) continue;
    out.push(0xc0, id, 0x00 | alg[0], 0x40 | alg[1], 0x80 | alg[2]);
  }
  return out;
}

/** The "supported algorithms" form: each distinct tagged algorithm number once. */
export function supportedAlgorithms(ids: readonly number[]): number[] {
  const tags = new Set<number>();
  for (const id of ids) {
    const alg = CIPHER_SUITE_ALGORITHMS[id];
    if (!alg) continue;
    for (const tag of [0x00 | alg[0], 0x40 | alg[1], 0x80 | alg[2]]) tags.add(tag);
  }
  return [...tags].sort((a, b) => a - b);
}

function requestedChannel(req: IpmiRequest, ctx: CommandContext, byte: number): number {
  return resolveChannel(byteAt(req.data, byte), ctx, req.channel);
}

function lanChannelOnly(channel: number): void {
  if (channel !== Channel.Lan)
    throw new CompletionError(CompletionCode.InvalidDataField, `channel ${channel} is not a LAN channel`);
}

function validPrivilege(level: number): level is PrivilegeLevel {
  return level >= Privilege.Callback && level <= Privilege.Oem;
}

export function channelCommands(rt: Runtime): CommandSpec[] {
  const app = { netFn: NetFn.App };
  return [
    command(
      { ...app, cmd: 0x38, name: 'Get Channel Authentication Capabilities', privilege: Privilege.Callback, length: 2 },
      (req, ctx) => {
        const channel = requestedChannel(req, ctx, 0);
        lanChannelOnly(channel);
        const extended = (byteAt(req.data, 0) & 0x80) !== 0;
        const level = byteAt(req.data, 1) & 0x0f;
        if (!validPrivilege(level)) return fail(CompletionCode.InvalidDataField);
        const state = ctx.store.state();
        const access = state.channels[channel];
        // IPMI 1.5 auth types are offered only when 1.5 sessions are allowed; then MD5 as enabled per privilege.
        const authTypes = rt.options.ipmi15 ? (state.lan.authTypeEnables[level - 1] ?? 0) & 0x04 : 0;
        const enabled = state.users.filter((u) => u.enabled);
        const nonNull = enabled.some((u) => u.name !== '');
        const nullName = enabled.some((u) => u.name === '' && u.password !== '');
        const anonymous = enabled.some((u) => u.name === '' && u.password === '');
        const status =
          ((access?.perMessageAuth ?? true) ? 0 : 0x10) |
          ((access?.userLevelAuth ?? true) ? 0 : 0x08) |
          (nonNull ? 0x04 : 0) |
          (nullName ? 0x02 : 0) |
          (anonymous ? 0x01 : 0);
        return ok([
          channel,
          (extended ? 0x80 : 0) | authTypes,
          status, // bit 5 clear: K_G is the default (all zero)
          extended ? 0x02 | (rt.options.ipmi15 ? 0x01 : 0) : 0,
          0,
          0,
          0,
          0,
        ]);
      },
    ),
    command(
      { ...app, cmd: 0x54, name: 'Get Channel Cipher Suites', privilege: Privilege.Callback, length: 3 },
      (req, ctx) => {
        const channel = requestedChannel(req, ctx, 0);
        lanChannelOnly(channel);
        const payloadType = byteAt(req.data, 1) & 0x3f;
        const byCipherSuite = (byteAt(req.data, 2) & 0x80) !== 0;
        const index = byteAt(req.data, 2) & 0x3f;
        // Only the IPMI message payload (0) carries cipher suites here; others have none.
        const stream =
          payloadType !== 0
            ? []
            : byCipherSuite
              ? cipherSuiteRecords(ctx.cipherSuites)
              : supportedAlgorithms(ctx.cipherSuites);
        return ok([channel, ...stream.slice(index * 16, index * 16 + 16)]);
      },
    ),
    command({ ...app, cmd: 0x41, name: 'Get Channel Access', privilege: Privilege.User, length: 2 }, (req, ctx) => {
      const channel = requestedChannel(req, ctx, 0);
      const which = byteAt(req.data, 1) >> 6;
      if (which !== 1 && which !== 2) return fail(CompletionCode.InvalidDataField);
      if (channel === Channel.SystemInterface) return ok([0x02, Privilege.Administrator]); // always available
      lanChannelOnly(channel);
      const access = ctx.store.state().channels[channel];
      if (!access) return fail(CompletionCode.InvalidDataField);
      // Volatile and non-volatile settings are one persisted setting here: both read the same.
      return ok([
        (access.alerting ? 0 : 0x20) |
          (access.perMessageAuth ? 0 : 0x10) |
          (access.userLevelAuth ? 0 : 0x08) |
          (access.accessMode & 0x07),
        access.privilegeLimit & 0x0f,
      ]);
    }),
    command(
      { ...app, cmd: 0x40, name: 'Set Channel Access', privilege: Privilege.Administrator, length: 3 },
      async (req, ctx) => {
        const channel = requestedChannel(req, ctx, 0);
        lanChannelOnly(channel);
        const b1 = byteAt(req.data, 1);
        const b2 = byteAt(req.data, 2);
        const setAccess = b1 >> 6;
        const setPrivilege = b2 >> 6;
        if (setAccess === 3 || setPrivilege === 3) return fail(CompletionCode.InvalidDataField);
        const level = b2 & 0x0f;
        if (setPrivilege !== 0 && !validPrivilege(level)) return fail(CompletionCode.InvalidDataField);
        if (setAccess !== 0 && (b1 & 0x07) > 3) return fail(CompletionCode.InvalidDataField);
        await updateState(ctx, (draft) => {
          const access = draft.channels[channel];
          if (!access) throw new CompletionError(CompletionCode.InvalidDataField, 'channel has no access settings');
          if (setAccess !== 0) {
            access.alerting = (b1 & 0x20) === 0;
            access.perMessageAuth = (b1 & 0x10) === 0;
            access.userLevelAuth = (b1 & 0x08) === 0;
            access.accessMode = b1 & 0x07;
          }
          if (setPrivilege !== 0) access.privilegeLimit = level as PrivilegeLevel;
        });
        return ok();
      },
    ),
    command({ ...app, cmd: 0x42, name: 'Get Channel Info', privilege: Privilege.User, length: 1 }, (req, ctx) => {
      const channel = requestedChannel(req, ctx, 0);
      if (channel === Channel.Lan) {
        const active = Math.min(0x3f, ctx.sessions?.active().length ?? 0);
        return ok([
          channel,
          0x04, // 802.3 LAN
          0x01, // IPMB-1.0 protocol, used for LAN (table 6-2)
          0x80 | active, // multi-session
          ...IPMI_FORUM_IANA,
          0,
          0,
        ]);
      }
      if (channel === Channel.SystemInterface) {
        return ok([channel, 0x0c, 0x05, 0x00, ...IPMI_FORUM_IANA, 0, 0]); // system interface, KCS, session-less
      }
      return fail(CompletionCode.InvalidDataField);
    }),
    command(
      { ...app, cmd: 0x4e, name: 'Get Channel Payload Support', privilege: Privilege.User, length: 1 },
      (req, ctx) => {
        const channel = requestedChannel(req, ctx, 0);
        lanChannelOnly(channel);
        const sol = rt.options.sol ? 0x02 : 0;
        // IPMI messages (and SOL when present); session setup: Open Session request/response, RAKP 1-4.
        return ok([0x01 | sol, 0x00, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x00]);
      },
    ),
  ];
}
