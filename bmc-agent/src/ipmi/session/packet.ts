// One inbound datagram → at most one reply. Layers: RMCP → ASF or IPMI session (1.5 / 2.0) → establishment payloads or
// an IPMI message for the command table. Pure of sockets: lan.ts feeds it bytes and sends what it returns.

import type { BmcStore } from '../../bmc/types.ts';
import { Privilege } from '../../bmc/types.ts';
import type { Machine } from '../../machine/types.ts';
import { AsfType, decodeAsf, encodePresencePong } from '../codec/asf.ts';
import { CodecError, putU16le, putU32le } from '../codec/errors.ts';
import { decodeLanRequest, type LanRequest, responseFor } from '../codec/message.ts';
import {
  decodeRmcp,
  encodeRmcp,
  RMCP_HEADER_LENGTH,
  RMCP_NO_ACK_SEQUENCE,
  RMCP_VERSION,
  RmcpClass,
} from '../codec/rmcp.ts';
import { AuthType } from '../codec/session15.ts';
import {
  decodeSession20,
  encodeSession20,
  integrityPadLength,
  NEXT_HEADER,
  PayloadType,
  SESSION20_HEADER_LENGTH,
  type Session20Header,
  splitTrailer,
} from '../codec/session20.ts';
import {
  decryptAesCbc128,
  encryptAesCbc128,
  encryptAesCbc128Into,
  encryptedLength,
} from '../crypto/confidentiality.ts';
import { integrityCode, integrityCodeLength, verifyIntegrity, writeIntegrityCode } from '../crypto/integrity.ts';
import { ConfidentialityAlgorithm, IntegrityAlgorithm } from '../crypto/suites.ts';
import { Channel, type CommandContext, type CommandDispatcher, CompletionCode, type IpmiResponse } from '../types.ts';
import { type EstablishContext, openSession, rakp1, rakp3 } from './establish.ts';
import { handleV15Packet } from './packet15.ts';
import type { Session } from './session.ts';
import { allowedWithoutSession } from './sessionless.ts';
import type { SessionTable } from './table.ts';

export interface Remote {
  address: string;
  port: number;
}

export interface PacketOutcome {
  reply?: Uint8Array;
  /** Set when the packet was refused or dropped: the metrics reason. */
  rejected?: string;
  /** Set when a session was just activated (RAKP 4 OK). */
  opened?: Session;
}

export interface PacketHandlerDeps {
  table: SessionTable;
  store: BmcStore;
  machine: Machine;
  dispatcher: CommandDispatcher;
  cipherSuites: readonly number[];
  allowV15: boolean;
  guid: Uint8Array;
}

/** Receives an authenticated, decrypted non-IPMI payload (e.g. SOL) of a live session. */
export type PayloadListener = (session: Session, payload: Uint8Array) => void;

export interface PayloadSecurity {
  encrypt: boolean;
  authenticate: boolean;
}

export class PacketHandler {
  private readonly deps: PacketHandlerDeps;
  private readonly payloadListeners = new Map<number, PayloadListener>();

  constructor(deps: PacketHandlerDeps) {
    this.deps = deps;
  }

  /** Accepts payloads of `payloadType` (other than IPMI messages) inside sessions, e.g. SOL (0x01). */
  onPayload(payloadType: number, listener: PayloadListener): void {
    if (payloadType === PayloadType.Ipmi || payloadType >= PayloadType.OpenSessionRequest) {
      throw new RangeError(`payload type 0x${payloadType.toString(16)} belongs to the session layer`);
    }
    this.payloadListeners.set(payloadType, listener);
  }

  /**
   * Handles one datagram. The answer comes back directly when everything on the way is synchronous (an IPMI command
   * whose handler is), otherwise as a promise; `await` works on both.
   */
  handle(packet: Uint8Array, remote: Remote): PacketOutcome | Promise<PacketOutcome> {
    try {
      const outcome = this.route(packet, remote);
      return outcome instanceof Promise ? outcome.catch(codecRejection) : outcome;
    } catch (err) {
      return codecRejection(err);
    }
  }

  private route(packet: Uint8Array, remote: Remote): PacketOutcome | Promise<PacketOutcome> {
    const rmcp = decodeRmcp(packet);
    // RMCP ACKs need no answer; IPMI never asks for them (sequence 0xFF).
    if (rmcp.header.ack) return { rejected: 'rmcp-ack' };
    if (rmcp.header.messageClass === RmcpClass.Asf) return this.asf(rmcp.body);
    if (rmcp.header.messageClass !== RmcpClass.Ipmi) return { rejected: 'rmcp-class' };
    if (rmcp.body.length === 0) return { rejected: 'malformed-truncated' };
    const authType = (rmcp.body[0] ?? 0) & 0x0f;
    if (authType === AuthType.RmcpPlus) return this.v20(rmcp.body, remote);
    return this.v15(rmcp.body, remote);
  }

  private asf(body: Uint8Array): PacketOutcome {
    const msg = decodeAsf(body);
    if (msg.type !== AsfType.PresencePing) return { rejected: 'asf-type' };
    return { reply: encodeRmcp(RmcpClass.Asf, encodePresencePong(msg.tag)) };
  }

  /** IPMI 1.5 framing (packet15.ts): sessionless discovery always; MD5 sessions only when allowed. */
  private v15(body: Uint8Array, remote: Remote): Promise<PacketOutcome> {
    return handleV15Packet(body, remote, {
      table: this.deps.table,
      store: this.deps.store,
      allowV15: this.deps.allowV15,
      dispatch: (req, session) => this.dispatch(req, session),
    });
  }

  private v20(body: Uint8Array, remote: Remote): PacketOutcome | Promise<PacketOutcome> {
    const packet = decodeSession20(body);
    const h = packet.header;
    if (h.sessionId === 0) return this.sessionless(h, packet.payload, remote);
    const listener = this.payloadListeners.get(h.payloadType);
    if (h.payloadType !== PayloadType.Ipmi && !listener) return { rejected: 'payload-type' };
    const session = this.deps.table.byId(h.sessionId);
    if (session?.authType !== 'rmcp+' || session.remoteAddress !== remote.address) {
      return { rejected: 'unknown-session' };
    }
    const wantIntegrity = session.suite.integrity !== IntegrityAlgorithm.None;
    const canEncrypt = session.suite.confidentiality !== ConfidentialityAlgorithm.None;
    // A session that negotiated integrity never accepts a packet without it; IPMI messages must also be encrypted
    // when the suite encrypts. Other payloads (SOL) may go unencrypted if their activation said so: the payload's
    // owner checks that against what it activated.
    const encryptionOk = h.payloadType === PayloadType.Ipmi ? h.encrypted === canEncrypt : !h.encrypted || canEncrypt;
    if (h.authenticated !== wantIntegrity || !encryptionOk) return { rejected: 'security-mismatch' };
    if (h.authenticated) {
      const { signed, authCode } = splitTrailer(body, packet, integrityCodeLength(session.suite.integrity));
      if (!verifyIntegrity(session.suite.integrity, session.keys.k1, signed, authCode))
        return { rejected: 'integrity' };
    }
    const window = h.authenticated ? session.authenticatedWindow : session.plainWindow;
    const verdict = window.check(h.sequence);
    if (verdict !== 'ok')
      return { rejected: verdict === 'duplicate' || verdict === 'too-old' ? 'replay' : `sequence-${verdict}` };
    const message = h.encrypted ? decryptAesCbc128(session.keys.k2, packet.payload) : packet.payload;
    session.rakp4Echo = undefined;
    if (listener) {
      window.commit(h.sequence);
      this.deps.table.touch(session);
      listener(session, message);
      return {};
    }
    const req = decodeLanRequest(message);
    // Only a packet that passed every check moves the window and keeps the session alive.
    window.commit(h.sequence);
    this.deps.table.touch(session);
    const res = this.dispatchDirect(req, session);
    if (res instanceof Promise)
      return res.then((r): PacketOutcome => ({ reply: this.sealed(session, responseFor(req, r.cc, r.data)) }));
    return { reply: this.sealed(session, responseFor(req, res.cc, res.data)) };
  }

  private async sessionless(h: Session20Header, payload: Uint8Array, remote: Remote): Promise<PacketOutcome> {
    if (h.authenticated || h.encrypted) return { rejected: 'no-session' };
    const ctx: EstablishContext = {
      table: this.deps.table,
      store: this.deps.store,
      cipherSuites: this.deps.cipherSuites,
      guid: this.deps.guid,
      remoteAddress: remote.address,
      remotePort: remote.port,
    };
    let result: { payload: Uint8Array | undefined; rejected?: string; session?: Session };
    let replyType: number;
    switch (h.payloadType) {
      case PayloadType.OpenSessionRequest:
        result = openSession(ctx, payload);
        replyType = PayloadType.OpenSessionResponse;
        break;
      case PayloadType.Rakp1:
        result = rakp1(ctx, payload);
        replyType = PayloadType.Rakp2;
        break;
      case PayloadType.Rakp3:
        result = rakp3(ctx, payload);
        replyType = PayloadType.Rakp4;
        break;
      case PayloadType.Ipmi: {
        const req = decodeLanRequest(payload);
        if (!allowedWithoutSession(req, false, this.deps.allowV15)) return { rejected: 'no-session' };
        const res = await this.dispatch(req, undefined);
        result = { payload: responseFor(req, res.cc, res.data) };
        replyType = PayloadType.Ipmi;
        break;
      }
      default:
        return { rejected: 'no-session' };
    }
    const outcome: PacketOutcome = {};
    if (result.rejected) outcome.rejected = result.rejected;
    if (result.session) outcome.opened = result.session;
    if (result.payload) {
      const header = { payloadType: replyType, encrypted: false, authenticated: false, sessionId: 0, sequence: 0 };
      outcome.reply = encodeRmcp(RmcpClass.Ipmi, encodeSession20({ header, payload: result.payload }));
    }
    return outcome;
  }

  /** Wraps a response for a session: encrypted and signed as negotiated, addressed to the console's session ID. */
  private sealed(session: Session, message: Uint8Array): Uint8Array {
    return this.seal(session, PayloadType.Ipmi, message, { encrypt: true, authenticate: true });
  }

  /**
   * A BMC-originated packet for a session (SOL data, for instance), with the session's next outbound sequence
   * number. Encryption is applied when asked for and negotiated; integrity, once negotiated, is on every packet.
   */
  seal(session: Session, payloadType: number, message: Uint8Array, security: PayloadSecurity): Uint8Array {
    const encrypted = security.encrypt && session.suite.confidentiality !== ConfidentialityAlgorithm.None;
    const authenticated = session.suite.integrity !== IntegrityAlgorithm.None;
    const sequence = session.nextOutboundSequence();
    if (payloadType === PayloadType.Oem) {
      // Not sent by the BMC today; the general encoder handles the longer OEM header.
      const header = { payloadType, encrypted, authenticated, sessionId: session.consoleSessionId, sequence };
      const payload = encrypted ? encryptAesCbc128(session.keys.k2, message) : message;
      const sign = (signed: Uint8Array): Uint8Array => integrityCode(session.suite.integrity, session.keys.k1, signed);
      return encodeRmcp(
        RmcpClass.Ipmi,
        encodeSession20(authenticated ? { header, payload, sign } : { header, payload }),
      );
    }
    // The whole datagram in one buffer: RMCP header, session header, payload (encrypted in place), trailer, AuthCode
    // (the same bytes as encodeRmcp(encodeSession20(...)), without the intermediate copies).
    const payloadLength = encrypted ? encryptedLength(message.length) : message.length;
    const unsignedLength = SESSION20_HEADER_LENGTH + payloadLength;
    const pad = authenticated ? integrityPadLength(unsignedLength) : 0;
    const codeLength = authenticated ? integrityCodeLength(session.suite.integrity) : 0;
    const signedLength = authenticated ? unsignedLength + pad + 2 : unsignedLength;
    const out = Buffer.allocUnsafe(RMCP_HEADER_LENGTH + signedLength + codeLength);
    out[0] = RMCP_VERSION;
    out[1] = 0;
    out[2] = RMCP_NO_ACK_SEQUENCE;
    out[3] = RmcpClass.Ipmi;
    const h = RMCP_HEADER_LENGTH;
    out[h] = AuthType.RmcpPlus;
    out[h + 1] = (payloadType & 0x3f) | (encrypted ? 0x80 : 0) | (authenticated ? 0x40 : 0);
    putU32le(out, h + 2, session.consoleSessionId);
    putU32le(out, h + 6, sequence);
    putU16le(out, h + 10, payloadLength);
    const payloadAt = h + SESSION20_HEADER_LENGTH;
    if (encrypted) encryptAesCbc128Into(session.keys.k2, message, out, payloadAt);
    else out.set(message, payloadAt);
    if (!authenticated) return out;
    const trailerAt = payloadAt + payloadLength;
    out.fill(0xff, trailerAt, trailerAt + pad);
    out[trailerAt + pad] = pad;
    out[trailerAt + pad + 1] = NEXT_HEADER;
    writeIntegrityCode(
      session.suite.integrity,
      session.keys.k1,
      out.subarray(h, h + signedLength),
      out,
      h + signedLength,
    );
    return out;
  }

  private async dispatch(req: LanRequest, session: Session | undefined): Promise<IpmiResponse> {
    return this.dispatchDirect(req, session);
  }

  /** Runs a command; a synchronous handler's answer comes back without a promise. Never throws or rejects. */
  private dispatchDirect(req: LanRequest, session: Session | undefined): IpmiResponse | Promise<IpmiResponse> {
    const ctx: CommandContext = {
      machine: this.deps.machine,
      store: this.deps.store,
      sessions: this.deps.table,
      // Before a session exists a console has no privilege beyond the discovery commands let through above.
      privilege: session ? session.privilege : Privilege.Callback,
      cipherSuites: this.deps.cipherSuites,
    };
    if (session) ctx.session = session;
    const request = { netFn: req.netFn, cmd: req.cmd, lun: req.rsLun, data: req.data, channel: Channel.Lan };
    const dispatcher = this.deps.dispatcher;
    let res: IpmiResponse | Promise<IpmiResponse>;
    try {
      res = dispatcher.dispatchDirect ? dispatcher.dispatchDirect(request, ctx) : dispatcher.dispatch(request, ctx);
    } catch {
      return unspecified();
    }
    return res instanceof Promise ? res.then(undefined, unspecified) : res;
  }
}

function unspecified(): IpmiResponse {
  return { cc: CompletionCode.Unspecified, data: new Uint8Array(0) };
}

/** Malformed input is an ordinary refusal; anything else is a bug and propagates. */
function codecRejection(err: unknown): PacketOutcome {
  if (err instanceof CodecError) return { rejected: `malformed-${err.reason}` };
  throw err;
}
