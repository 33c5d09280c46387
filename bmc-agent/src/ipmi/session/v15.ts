// IPMI 1.5 session establishment with MD5 (IPMI 2.0 §22.16–22.17): Get Session Challenge → Activate Session.
// Only reached when IPMI 1.5 is allowed by configuration. Names and status codes follow the spec's tables.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { BmcStore, PrivilegeLevel } from '../../bmc/types.ts';
import { putU32le, u32le } from '../codec/errors.ts';
import type { Session15Packet } from '../codec/session15.ts';
import { AuthType } from '../codec/session15.ts';
import { v15Key, verifyMd5AuthCode } from '../crypto/md5.ts';
import { suiteById } from '../crypto/suites.ts';
import { Channel, CompletionCode, type IpmiResponse } from '../types.ts';
import { channelLimit, isPrivilegeLevel, minPrivilege, userLimit } from './privilege.ts';
import type { Session } from './session.ts';
import type { SessionTable } from './table.ts';

export interface V15Context {
  table: SessionTable;
  store: BmcStore;
  remoteAddress: string;
  remotePort: number;
}

export interface V15Result {
  /** Undefined: drop silently (a forged or mismatched packet gets no answer). */
  response?: IpmiResponse;
  rejected?: string;
  session?: Session;
}

const fail = (cc: number, rejected: string): V15Result => ({ response: { cc, data: new Uint8Array(0) }, rejected });
const NONE_SUITE = suiteById(0);

/** True when MD5 is enabled for some privilege level (LAN parameter 2). */
function md5Enabled(store: BmcStore, level?: number): boolean {
  const enables = store.state().lan.authTypeEnables;
  const levels = level === undefined ? enables.slice(0, 5) : [enables[level - 1] ?? 0];
  return levels.some((b) => ((b ?? 0) & (1 << AuthType.Md5)) !== 0);
}

/** Get Session Challenge: auth type (1) ‖ user name (16) → temporary session ID (4) ‖ challenge (16). */
export function getSessionChallenge(ctx: V15Context, data: Uint8Array): V15Result {
  if (data.length !== 17) return fail(CompletionCode.RequestDataLengthInvalid, 'malformed-length');
  if (((data[0] ?? 0) & 0x0f) !== AuthType.Md5 || !md5Enabled(ctx.store))
    return fail(CompletionCode.InvalidDataField, 'v15-auth-type');
  const raw = data.subarray(1, 17);
  const end = raw.indexOf(0);
  const name = new TextDecoder().decode(end < 0 ? raw : raw.subarray(0, end));
  const user = ctx.store.userByName(name);
  // 81h: invalid user name; 82h: null user name not enabled (IPMI 2.0 table 22-..).
  if (!user?.enabled || userLimit(user, Channel.Lan) === undefined || v15Key(user.password) === undefined) {
    return fail(name === '' ? 0x82 : 0x81, name === '' ? 'unknown-user' : user ? 'disabled-user' : 'unknown-user');
  }
  const challenge = new Uint8Array(randomBytes(16));
  const handshake = ctx.table.beginHandshake({
    consoleSessionId: 0,
    suite: NONE_SUITE ?? { id: 0, auth: 0, integrity: 0, confidentiality: 0 },
    maxPrivilege: 4,
    remoteAddress: ctx.remoteAddress,
    remotePort: ctx.remotePort,
    v15: { challenge, userId: user.id },
  });
  if (!handshake) return fail(CompletionCode.NodeBusy, 'session-limit');
  const out = new Uint8Array(20);
  putU32le(out, 0, handshake.id);
  out.set(challenge, 4);
  return { response: { cc: 0, data: out } };
}

/**
 * Activate Session, sent under the temporary session ID with an MD5 AuthCode:
 * auth type (1) ‖ max privilege (1) ‖ challenge (16) ‖ initial outbound sequence (4)
 * → auth type ‖ session ID (4) ‖ initial inbound sequence (4) ‖ max privilege.
 */
export function activateSession(ctx: V15Context, packet: Session15Packet, data: Uint8Array): V15Result {
  const pending = ctx.table.handshake(packet.sessionId);
  if (!pending?.v15 || pending.remoteAddress !== ctx.remoteAddress) return { rejected: 'unknown-session' };
  const user = ctx.store.userById(pending.v15.userId);
  const key = user?.enabled ? v15Key(user.password) : undefined;
  if (!user || !key) {
    ctx.table.dropHandshake(pending.id);
    return { rejected: 'disabled-user' };
  }
  if (!verifyMd5AuthCode(key, packet.sessionId, packet.sequence, packet.message, packet.authCode)) {
    ctx.table.dropHandshake(pending.id);
    return { rejected: 'bad-password' };
  }
  if (data.length !== 22) return fail(CompletionCode.RequestDataLengthInvalid, 'malformed-length');
  const challenge = data.subarray(2, 18);
  if (!timingSafeEqual(challenge, pending.v15.challenge)) {
    ctx.table.dropHandshake(pending.id);
    return { rejected: 'integrity' };
  }
  const authType = (data[0] ?? 0) & 0x0f;
  const level = (data[1] ?? 0) & 0x0f;
  if (authType !== AuthType.Md5 || authType !== packet.authType)
    return fail(CompletionCode.InvalidDataField, 'v15-auth-type');
  if (!isPrivilegeLevel(level)) return fail(CompletionCode.InvalidDataField, 'invalid-role');
  const channel = channelLimit(ctx.store.state());
  const limit = userLimit(user, Channel.Lan);
  // 86h: requested maximum privilege level exceeds user and/or channel privilege limit.
  if (channel === undefined || limit === undefined || level > minPrivilege(limit, channel))
    return fail(0x86, 'privilege');
  if (!md5Enabled(ctx.store, level)) return fail(CompletionCode.InvalidDataField, 'v15-auth-type');
  const initialOutbound = u32le(data, 18);
  const session = ctx.table.activate({
    id: pending.id,
    consoleSessionId: pending.id,
    userId: user.id,
    userName: user.name,
    channel: Channel.Lan,
    maxPrivilege: level as PrivilegeLevel,
    suite: pending.suite,
    keys: { k1: new Uint8Array(0), k2: new Uint8Array(0) },
    remoteAddress: pending.remoteAddress,
    remotePort: ctx.remotePort,
    v15: { key, initialOutbound: initialOutbound === 0 ? 1 : initialOutbound },
  });
  const initialInbound = (randomBytes(4).readUInt32LE(0) | 1) >>> 0;
  const out = new Uint8Array(10);
  out[0] = AuthType.Md5;
  putU32le(out, 1, session.id);
  putU32le(out, 5, initialInbound);
  out[9] = level;
  return { response: { cc: 0, data: out }, session };
}
