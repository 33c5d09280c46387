// RMCP+ session establishment (IPMI 2.0 §13.17–13.23): Open Session, RAKP 1/2 and RAKP 3/4 over the session table.
// Every refusal returns the spec's status code and a reason for the metrics; nothing is half-created.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { BmcStore, PrivilegeLevel } from '../../bmc/types.ts';
import {
  decodeOpenSessionRequest,
  decodeRakp1,
  decodeRakp3,
  encodeOpenSessionResponse,
  encodeRakp2,
  encodeRakp4,
  RakpStatus,
} from '../codec/rakp.ts';
import { authHash, type RakpExchange, rakp2AuthCode, rakp3AuthCode, rakp4Icv, userKey } from '../crypto/auth.ts';
import { k1, k2, sessionIntegrityKey } from '../crypto/keys.ts';
import { matchSuite } from '../crypto/suites.ts';
import { Channel } from '../types.ts';
import { channelLimit, isPrivilegeLevel, minPrivilege, suiteLimit, userLimit } from './privilege.ts';
import type { Session } from './session.ts';
import type { Handshake, SessionTable } from './table.ts';

export interface EstablishContext {
  table: SessionTable;
  store: BmcStore;
  cipherSuites: readonly number[];
  /** The BMC GUID as sent in RAKP 2 (16 bytes). */
  guid: Uint8Array;
  remoteAddress: string;
  remotePort: number;
}

export interface EstablishResult {
  payload: Uint8Array | undefined;
  /** Set when the request was refused: the metrics reason. */
  rejected?: string;
  session?: Session;
}

/** One decoder for every RAKP 1 (a TextDecoder is costly to construct; decode() keeps no state between calls). */
const USER_NAME_DECODER = new TextDecoder('utf-8', { fatal: false });

/**
 * Kuid of the password used last: every session of the same user then shares one key array, and so one KeyObject
 * (crypto/key-objects.ts caches them per array) instead of building both per session.
 */
let lastKuid: { password: string; kuid: Uint8Array } | undefined;
function cachedUserKey(password: string): Uint8Array {
  if (lastKuid?.password !== password) lastKuid = { password, kuid: userKey(password) };
  return lastKuid.kuid;
}

const refuse = (payload: Uint8Array | undefined, rejected: string): EstablishResult => ({ payload, rejected });

export function openSession(ctx: EstablishContext, payload: Uint8Array): EstablishResult {
  const req = decodeOpenSessionRequest(payload);
  const fail = (status: number, reason: string): EstablishResult =>
    refuse(
      encodeOpenSessionResponse({
        tag: req.tag,
        status,
        maxPrivilege: 0,
        consoleSessionId: req.consoleSessionId,
        bmcSessionId: 0,
        auth: 0,
        integrity: 0,
        confidentiality: 0,
      }),
      reason,
    );
  if (req.consoleSessionId === 0) return fail(RakpStatus.InvalidSessionId, 'invalid-session-id');
  const requested = req.requestedPrivilege;
  if (requested !== 0 && !isPrivilegeLevel(requested)) return fail(RakpStatus.InvalidRole, 'invalid-role');
  const match = matchSuite(ctx.cipherSuites, req);
  if ('status' in match) return fail(match.status, 'cipher-unsupported');
  const state = ctx.store.state();
  const channel = channelLimit(state);
  if (channel === undefined) return fail(RakpStatus.InsufficientResources, 'channel-disabled');
  // 0 asks for the highest level the suite allows; anything above the suite and channel limits is capped.
  const cap = minPrivilege(suiteLimit(state, match.index), channel);
  const granted = requested === 0 ? cap : minPrivilege(requested as PrivilegeLevel, cap);
  const handshake = ctx.table.beginHandshake({
    consoleSessionId: req.consoleSessionId,
    suite: match.suite,
    maxPrivilege: granted,
    remoteAddress: ctx.remoteAddress,
    remotePort: ctx.remotePort,
  });
  if (!handshake) return fail(RakpStatus.InsufficientResources, 'session-limit');
  return {
    payload: encodeOpenSessionResponse({
      tag: req.tag,
      status: RakpStatus.Ok,
      maxPrivilege: granted,
      consoleSessionId: req.consoleSessionId,
      bmcSessionId: handshake.id,
      auth: match.suite.auth,
      integrity: match.suite.integrity,
      confidentiality: match.suite.confidentiality,
    }),
  };
}

export function rakp1(ctx: EstablishContext, payload: Uint8Array): EstablishResult {
  const req = decodeRakp1(payload);
  const handshake = ctx.table.handshake(req.bmcSessionId);
  if (!handshake || handshake.v15 || handshake.remoteAddress !== ctx.remoteAddress) {
    // No console session ID is known for an unknown handshake; answer with 0 so the console learns why.
    return refuse(
      encodeRakp2({
        tag: req.tag,
        status: RakpStatus.InvalidSessionId,
        consoleSessionId: 0,
        bmcRandom: new Uint8Array(0),
        bmcGuid: new Uint8Array(0),
        authCode: new Uint8Array(0),
      }),
      'unknown-session',
    );
  }
  const fail = (status: number, reason: string): EstablishResult => {
    ctx.table.dropHandshake(handshake.id);
    return refuse(
      encodeRakp2({
        tag: req.tag,
        status,
        consoleSessionId: handshake.consoleSessionId,
        bmcRandom: new Uint8Array(0),
        bmcGuid: new Uint8Array(0),
        authCode: new Uint8Array(0),
      }),
      reason,
    );
  };
  const level = req.role & 0x0f;
  if ((req.role & 0xe0) !== 0 || !isPrivilegeLevel(level)) return fail(RakpStatus.InvalidRole, 'invalid-role');
  const name = USER_NAME_DECODER.decode(req.userName);
  const user = ctx.store.userByName(name);
  if (!user) return fail(RakpStatus.UnauthorizedName, 'unknown-user');
  if (!user.enabled) return fail(RakpStatus.UnauthorizedName, 'disabled-user');
  const limit = userLimit(user, Channel.Lan);
  if (limit === undefined) return fail(RakpStatus.UnauthorizedName, 'no-channel-access');
  // Name-only and username/privilege lookup both end here: one user per name, whose limit must cover the role.
  if (level > minPrivilege(limit, handshake.maxPrivilege)) return fail(RakpStatus.UnauthorizedRole, 'privilege');
  let kuid: Uint8Array;
  try {
    kuid = cachedUserKey(user.password);
  } catch {
    return fail(RakpStatus.UnauthorizedName, 'unusable-password');
  }
  const bmcRandom = new Uint8Array(randomBytes(16));
  handshake.rakp1 = {
    consoleRandom: req.consoleRandom,
    bmcRandom,
    role: req.role,
    userName: req.userName,
    userId: user.id,
    kuid,
  };
  const hash = authHash(handshake.suite.auth);
  const exchange = exchangeOf(ctx, handshake.id, handshake.consoleSessionId, handshake.rakp1);
  return {
    payload: encodeRakp2({
      tag: req.tag,
      status: RakpStatus.Ok,
      consoleSessionId: handshake.consoleSessionId,
      bmcRandom,
      bmcGuid: ctx.guid,
      authCode: hash ? rakp2AuthCode(hash, kuid, exchange) : new Uint8Array(0),
    }),
  };
}

export function rakp3(ctx: EstablishContext, payload: Uint8Array): EstablishResult {
  const req = decodeRakp3(payload);
  const handshake = ctx.table.handshake(req.bmcSessionId);
  const echo = repeatedRakp3(ctx, req.bmcSessionId, req.authCode);
  if (echo) return { payload: echo };
  if (!handshake?.rakp1 || handshake.remoteAddress !== ctx.remoteAddress) {
    return refuse(
      encodeRakp4({
        tag: req.tag,
        status: RakpStatus.InvalidSessionId,
        consoleSessionId: 0,
        integrityCheck: new Uint8Array(0),
      }),
      'unknown-session',
    );
  }
  const r1 = handshake.rakp1;
  if (req.status !== RakpStatus.Ok) {
    // The console gave up (typically: our RAKP 2 code did not match its password). Free the slot; nothing to answer.
    ctx.table.dropHandshake(handshake.id);
    return refuse(undefined, 'console-rejected-rakp2');
  }
  const hash = authHash(handshake.suite.auth);
  const exchange = exchangeOf(ctx, handshake.id, handshake.consoleSessionId, r1);
  if (hash) {
    const expected = rakp3AuthCode(hash, r1.kuid, exchange);
    if (req.authCode.length !== expected.length || !timingSafeEqual(expected, req.authCode)) {
      ctx.table.dropHandshake(handshake.id);
      return refuse(
        encodeRakp4({
          tag: req.tag,
          status: RakpStatus.InvalidIntegrityCheckValue,
          consoleSessionId: handshake.consoleSessionId,
          integrityCheck: new Uint8Array(0),
        }),
        'bad-password',
      );
    }
  }
  const sik = hash ? sessionIntegrityKey(hash, r1.kuid, exchange) : new Uint8Array(0);
  const keys = hash ? { k1: k1(hash, sik), k2: k2(hash, sik) } : { k1: new Uint8Array(0), k2: new Uint8Array(0) };
  const user = ctx.store.userById(r1.userId);
  const session = ctx.table.activate({
    id: handshake.id,
    consoleSessionId: handshake.consoleSessionId,
    userId: r1.userId,
    userName: user?.name ?? '',
    channel: Channel.Lan,
    maxPrivilege: (r1.role & 0x0f) as PrivilegeLevel,
    suite: handshake.suite,
    keys,
    remoteAddress: handshake.remoteAddress,
    remotePort: ctx.remotePort,
  });
  const reply = encodeRakp4({
    tag: req.tag,
    status: RakpStatus.Ok,
    consoleSessionId: handshake.consoleSessionId,
    integrityCheck: hash ? rakp4Icv(hash, sik, exchange) : new Uint8Array(0),
  });
  session.rakp4Echo = { rakp3: req.authCode, reply };
  return { payload: reply, session };
}

/**
 * A console whose RAKP 4 was lost sends the same RAKP 3 again. Until the session's first packet arrives, the same
 * RAKP 3 (same address, same code) gets the same RAKP 4 again; nothing changes.
 */
function repeatedRakp3(ctx: EstablishContext, bmcSessionId: number, authCode: Uint8Array): Uint8Array | undefined {
  const session = ctx.table.byId(bmcSessionId);
  const echo = session?.rakp4Echo;
  if (!session || !echo || session.remoteAddress !== ctx.remoteAddress) return undefined;
  if (echo.rakp3.length !== authCode.length || !timingSafeEqual(echo.rakp3, authCode)) return undefined;
  return echo.reply;
}

function exchangeOf(
  ctx: EstablishContext,
  bmcSessionId: number,
  consoleSessionId: number,
  r1: NonNullable<Handshake['rakp1']>,
): RakpExchange {
  return {
    consoleSessionId,
    bmcSessionId,
    consoleRandom: r1.consoleRandom,
    bmcRandom: r1.bmcRandom,
    bmcGuid: ctx.guid,
    role: r1.role,
    userName: r1.userName,
  };
}
