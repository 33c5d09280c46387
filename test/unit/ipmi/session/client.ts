// A minimal RMCP+ console for tests: builds the packets ipmitool would, so tests can send them (or tampered and
// replayed copies) to the handler or over UDP and read the answers. Uses the product codecs and crypto; its
// correctness is pinned by the capture tests, which check the same functions against ipmitool's own output.
import { randomBytes } from 'node:crypto';
import { decodeLanResponse, encodeLanRequest, type LanResponse } from '../../../../bmc-agent/src/ipmi/codec/message.ts';
import {
  decodeOpenSessionResponse,
  decodeRakp2,
  decodeRakp4,
  encodeOpenSessionRequest,
  encodeRakp1,
  encodeRakp3,
  type OpenSessionResponse,
  type Rakp2,
  type Rakp4,
} from '../../../../bmc-agent/src/ipmi/codec/rakp.ts';
import { decodeRmcp, encodeRmcp, RmcpClass } from '../../../../bmc-agent/src/ipmi/codec/rmcp.ts';
import { decodeSession15, encodeSession15 } from '../../../../bmc-agent/src/ipmi/codec/session15.ts';
import {
  decodeSession20,
  encodeSession20,
  PayloadType,
  splitTrailer,
} from '../../../../bmc-agent/src/ipmi/codec/session20.ts';
import { authHash, type RakpExchange, rakp3AuthCode, userKey } from '../../../../bmc-agent/src/ipmi/crypto/auth.ts';
import { decryptAesCbc128, encryptAesCbc128 } from '../../../../bmc-agent/src/ipmi/crypto/confidentiality.ts';
import {
  integrityCode,
  integrityCodeLength,
  verifyIntegrity,
} from '../../../../bmc-agent/src/ipmi/crypto/integrity.ts';
import { k1, k2, sessionIntegrityKey } from '../../../../bmc-agent/src/ipmi/crypto/keys.ts';
import { md5AuthCode, verifyMd5AuthCode } from '../../../../bmc-agent/src/ipmi/crypto/md5.ts';
import { type CipherSuite, suiteById } from '../../../../bmc-agent/src/ipmi/crypto/suites.ts';

export type Send = (packet: Uint8Array) => Promise<Uint8Array | undefined>;

function sessionless(payloadType: number, payload: Uint8Array): Uint8Array {
  return encodeRmcp(
    RmcpClass.Ipmi,
    encodeSession20({
      header: { payloadType, encrypted: false, authenticated: false, sessionId: 0, sequence: 0 },
      payload,
    }),
  );
}

function payloadOf(reply: Uint8Array | undefined, type: number): Uint8Array {
  if (!reply) throw new Error(`no reply (expected payload type 0x${type.toString(16)})`);
  const p = decodeSession20(decodeRmcp(reply).body);
  if (p.header.payloadType !== type) throw new Error(`reply payload type 0x${p.header.payloadType.toString(16)}`);
  return p.payload;
}

export interface LoginOptions {
  user: string;
  password: string;
  suite: number;
  /** Privilege in RAKP 1 (default Administrator) and in Open Session (default same). */
  role?: number;
  openPrivilege?: number;
}

export interface LoginResult {
  open: OpenSessionResponse;
  rakp2?: Rakp2;
  rakp4?: Rakp4;
  session?: ClientSession;
}

export class ClientSession {
  readonly suite: CipherSuite;
  readonly bmcSessionId: number;
  readonly consoleSessionId: number;
  readonly k1: Uint8Array;
  readonly k2: Uint8Array;
  sequence = 0;
  private rqSeq = 0;

  constructor(
    suite: CipherSuite,
    bmcSessionId: number,
    consoleSessionId: number,
    keys: { k1: Uint8Array; k2: Uint8Array },
  ) {
    this.suite = suite;
    this.bmcSessionId = bmcSessionId;
    this.consoleSessionId = consoleSessionId;
    this.k1 = keys.k1;
    this.k2 = keys.k2;
  }

  /** A sealed request packet with the next session sequence number. */
  request(netFn: number, cmd: number, data: number[] = [], sequence = ++this.sequence): Uint8Array {
    this.rqSeq = (this.rqSeq + 1) & 0x3f;
    const message = encodeLanRequest({
      rsAddr: 0x20,
      netFn,
      rsLun: 0,
      rqAddr: 0x81,
      rqSeq: this.rqSeq,
      rqLun: 0,
      cmd,
      data: Uint8Array.from(data),
    });
    const encrypted = this.suite.confidentiality !== 0;
    const authenticated = this.suite.integrity !== 0;
    const payload = encrypted ? encryptAesCbc128(this.k2, message) : message;
    const header = { payloadType: PayloadType.Ipmi, encrypted, authenticated, sessionId: this.bmcSessionId, sequence };
    const sign = (s: Uint8Array): Uint8Array => integrityCode(this.suite.integrity, this.k1, s);
    return encodeRmcp(RmcpClass.Ipmi, encodeSession20(authenticated ? { header, payload, sign } : { header, payload }));
  }

  /** A sealed packet of another payload type (e.g. SOL) with the next session sequence number. */
  payload(payloadType: number, data: Uint8Array, encrypt = this.suite.confidentiality !== 0): Uint8Array {
    const authenticated = this.suite.integrity !== 0;
    const header = {
      payloadType,
      encrypted: encrypt,
      authenticated,
      sessionId: this.bmcSessionId,
      sequence: ++this.sequence,
    };
    const payload = encrypt ? encryptAesCbc128(this.k2, data) : data;
    const sign = (s: Uint8Array): Uint8Array => integrityCode(this.suite.integrity, this.k1, s);
    return encodeRmcp(RmcpClass.Ipmi, encodeSession20(authenticated ? { header, payload, sign } : { header, payload }));
  }

  /** Verifies and decrypts any packet the BMC sent for this session. */
  open(packet: Uint8Array): { payloadType: number; encrypted: boolean; sequence: number; data: Uint8Array } {
    const body = decodeRmcp(packet).body;
    const p = decodeSession20(body);
    if (p.header.authenticated) {
      const { signed, authCode } = splitTrailer(body, p, integrityCodeLength(this.suite.integrity));
      if (!verifyIntegrity(this.suite.integrity, this.k1, signed, authCode))
        throw new Error('packet integrity code is wrong');
    }
    const data = p.header.encrypted ? decryptAesCbc128(this.k2, p.payload) : p.payload;
    return { payloadType: p.header.payloadType, encrypted: p.header.encrypted, sequence: p.header.sequence, data };
  }

  /** Opens (verifies and decrypts) a reply from the BMC. */
  response(reply: Uint8Array | undefined): LanResponse & { sequence: number; sessionId: number } {
    if (!reply) throw new Error('no reply');
    const body = decodeRmcp(reply).body;
    const p = decodeSession20(body);
    if (p.header.authenticated) {
      const { signed, authCode } = splitTrailer(body, p, integrityCodeLength(this.suite.integrity));
      if (!verifyIntegrity(this.suite.integrity, this.k1, signed, authCode))
        throw new Error('reply integrity code is wrong');
    }
    const message = p.header.encrypted ? decryptAesCbc128(this.k2, p.payload) : p.payload;
    return { ...decodeLanResponse(message), sequence: p.header.sequence, sessionId: p.header.sessionId };
  }
}

export async function login(send: Send, o: LoginOptions): Promise<LoginResult> {
  const suite = suiteById(o.suite);
  if (!suite) throw new Error(`unknown suite ${o.suite}`);
  const role = o.role ?? 4;
  const consoleSessionId = (randomBytes(4).readUInt32LE(0) | 1) >>> 0;
  const open = decodeOpenSessionResponse(
    payloadOf(
      await send(
        sessionless(
          PayloadType.OpenSessionRequest,
          encodeOpenSessionRequest({
            tag: 1,
            requestedPrivilege: o.openPrivilege ?? role & 0x0f,
            consoleSessionId,
            auth: suite.auth,
            integrity: suite.integrity,
            confidentiality: suite.confidentiality,
          }),
        ),
      ),
      PayloadType.OpenSessionResponse,
    ),
  );
  if (open.status !== 0) return { open };
  const userName = new TextEncoder().encode(o.user);
  const consoleRandom = new Uint8Array(randomBytes(16));
  const rakp2 = decodeRakp2(
    payloadOf(
      await send(
        sessionless(
          PayloadType.Rakp1,
          encodeRakp1({ tag: 2, bmcSessionId: open.bmcSessionId, consoleRandom, role, userName }),
        ),
      ),
      PayloadType.Rakp2,
    ),
  );
  if (rakp2.status !== 0) return { open, rakp2 };
  const x: RakpExchange = {
    consoleSessionId,
    bmcSessionId: open.bmcSessionId,
    consoleRandom,
    bmcRandom: rakp2.bmcRandom,
    bmcGuid: rakp2.bmcGuid,
    role,
    userName,
  };
  const hash = authHash(suite.auth);
  const kuid = userKey(o.password);
  const authCode = hash ? rakp3AuthCode(hash, kuid, x) : new Uint8Array(0);
  const rakp4 = decodeRakp4(
    payloadOf(
      await send(
        sessionless(PayloadType.Rakp3, encodeRakp3({ tag: 3, status: 0, bmcSessionId: open.bmcSessionId, authCode })),
      ),
      PayloadType.Rakp4,
    ),
  );
  if (rakp4.status !== 0) return { open, rakp2, rakp4 };
  const sik = hash ? sessionIntegrityKey(hash, kuid, x) : new Uint8Array(0);
  const keys = hash ? { k1: k1(hash, sik), k2: k2(hash, sik) } : { k1: new Uint8Array(0), k2: new Uint8Array(0) };
  return { open, rakp2, rakp4, session: new ClientSession(suite, open.bmcSessionId, consoleSessionId, keys) };
}

/** An IPMI 1.5 console with MD5 (Get Session Challenge → Activate Session), as `ipmitool -I lan -A MD5` does it. */
export class V15Session {
  readonly id: number;
  readonly key: Uint8Array;
  sequence: number;
  private rqSeq = 0;

  constructor(id: number, key: Uint8Array, initialInbound: number) {
    this.id = id;
    this.key = key;
    this.sequence = initialInbound - 1;
  }

  request(netFn: number, cmd: number, data: number[] = [], sequence = ++this.sequence): Uint8Array {
    this.rqSeq = (this.rqSeq + 1) & 0x3f;
    const message = encodeLanRequest({
      rsAddr: 0x20,
      netFn,
      rsLun: 0,
      rqAddr: 0x81,
      rqSeq: this.rqSeq,
      rqLun: 0,
      cmd,
      data: Uint8Array.from(data),
    });
    const authCode = md5AuthCode(this.key, this.id, sequence, message);
    return encodeRmcp(
      RmcpClass.Ipmi,
      encodeSession15({ authType: 2, sequence, sessionId: this.id, authCode, message }),
    );
  }

  response(reply: Uint8Array | undefined): LanResponse & { sequence: number } {
    if (!reply) throw new Error('no reply');
    const p = decodeSession15(decodeRmcp(reply).body);
    if (!verifyMd5AuthCode(this.key, p.sessionId, p.sequence, p.message, p.authCode))
      throw new Error('reply AuthCode is wrong');
    return { ...decodeLanResponse(p.message), sequence: p.sequence };
  }
}

export async function loginV15(
  send: Send,
  o: { user: string; password: string; privilege?: number; initialOutbound?: number },
): Promise<{ challengeCc: number; activateCc?: number; session?: V15Session }> {
  const name = new Uint8Array(16);
  name.set(new TextEncoder().encode(o.user));
  const challengeMsg = encodeLanRequest({
    rsAddr: 0x20,
    netFn: 6,
    rsLun: 0,
    rqAddr: 0x81,
    rqSeq: 1,
    rqLun: 0,
    cmd: 0x39,
    data: Uint8Array.from([2, ...name]),
  });
  const reply = await send(
    encodeRmcp(RmcpClass.Ipmi, encodeSession15({ authType: 0, sequence: 0, sessionId: 0, message: challengeMsg })),
  );
  if (!reply) throw new Error('no reply to Get Session Challenge');
  const challenge = decodeLanResponse(decodeSession15(decodeRmcp(reply).body).message);
  if (challenge.cc !== 0) return { challengeCc: challenge.cc };
  const tempId =
    challenge.data[0]! | (challenge.data[1]! << 8) | (challenge.data[2]! << 16) | ((challenge.data[3]! << 24) >>> 0);
  const key = new Uint8Array(16);
  key.set(new TextEncoder().encode(o.password).subarray(0, 16));
  const outbound = o.initialOutbound ?? 0x1000;
  const data = [
    2,
    o.privilege ?? 4,
    ...challenge.data.subarray(4, 20),
    outbound & 0xff,
    (outbound >>> 8) & 0xff,
    (outbound >>> 16) & 0xff,
    outbound >>> 24,
  ];
  const activateMsg = encodeLanRequest({
    rsAddr: 0x20,
    netFn: 6,
    rsLun: 0,
    rqAddr: 0x81,
    rqSeq: 2,
    rqLun: 0,
    cmd: 0x3a,
    data: Uint8Array.from(data),
  });
  const id = tempId >>> 0;
  const activateReply = await send(
    encodeRmcp(
      RmcpClass.Ipmi,
      encodeSession15({
        authType: 2,
        sequence: 0,
        sessionId: id,
        authCode: md5AuthCode(key, id, 0, activateMsg),
        message: activateMsg,
      }),
    ),
  );
  if (!activateReply) return { challengeCc: 0 };
  const p = decodeSession15(decodeRmcp(activateReply).body);
  const activated = decodeLanResponse(p.message);
  if (activated.cc !== 0) return { challengeCc: 0, activateCc: activated.cc };
  if (p.sequence !== outbound)
    throw new Error(`Activate Session answered with sequence ${p.sequence}, not ${outbound}`);
  const inbound =
    (activated.data[5]! | (activated.data[6]! << 8) | (activated.data[7]! << 16) | (activated.data[8]! << 24)) >>> 0;
  return { challengeCc: 0, activateCc: 0, session: new V15Session(id, key, inbound) };
}
