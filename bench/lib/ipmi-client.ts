// A minimal RMCP+ console for the benchmarks, built on the agent's own codec and crypto modules: open a session
// (Open Session, RAKP 1-4) with cipher suite 3 (HMAC-SHA1, HMAC-SHA1-96, AES-CBC-128) or 17 (SHA-256), send IPMI
// requests one at a time, close. One request in flight; a lost datagram is an error after `timeoutMs`, never retried.
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import {
  BMC_SLAVE_ADDRESS,
  decodeLanResponse,
  encodeLanRequest,
  REMOTE_CONSOLE_SOFTWARE_ID,
} from '../../bmc-agent/src/ipmi/codec/message.ts';
import {
  decodeOpenSessionResponse,
  decodeRakp2,
  decodeRakp4,
  encodeOpenSessionRequest,
  encodeRakp1,
  encodeRakp3,
} from '../../bmc-agent/src/ipmi/codec/rakp.ts';
import { decodeRmcp, encodeRmcp, RmcpClass } from '../../bmc-agent/src/ipmi/codec/rmcp.ts';
import {
  decodeSession20,
  encodeSession20,
  PayloadType,
  splitTrailer,
} from '../../bmc-agent/src/ipmi/codec/session20.ts';
import {
  authHash,
  type HashName,
  type RakpExchange,
  rakp2AuthCode,
  rakp3AuthCode,
  rakp4Icv,
  userKey,
} from '../../bmc-agent/src/ipmi/crypto/auth.ts';
import { integrityCodeLength } from '../../bmc-agent/src/ipmi/crypto/integrity.ts';
import { k1 as deriveK1, k2 as deriveK2, sessionIntegrityKey } from '../../bmc-agent/src/ipmi/crypto/keys.ts';
import { type CipherSuite, IntegrityAlgorithm, suiteById } from '../../bmc-agent/src/ipmi/crypto/suites.ts';

const ADMIN = 4;

// The per-packet crypto of the console is its own, with KeyObjects made once per session: node:crypto spends about
// 4x longer in createHmac/createCipheriv when handed raw key bytes (measured in bench/profile.ts), and the console
// must cost as little as possible so the servers' differences show. Session set-up uses the agent's modules.
interface PacketKeys {
  k1: KeyObject;
  k2: KeyObject;
  hash: 'sha1' | 'sha256';
  authCodeLength: number;
}

function sign(keys: PacketKeys, signed: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac(keys.hash, keys.k1).update(signed).digest().subarray(0, keys.authCodeLength));
}

function encrypt(keys: PacketKeys, plaintext: Uint8Array): Uint8Array {
  const iv = randomBytes(16);
  const padLength = (16 - ((plaintext.length + 1) % 16)) % 16;
  const padded = new Uint8Array(plaintext.length + padLength + 1);
  padded.set(plaintext);
  for (let i = 0; i < padLength; i++) padded[plaintext.length + i] = i + 1;
  padded[padded.length - 1] = padLength;
  const c = createCipheriv('aes-128-cbc', keys.k2, iv).setAutoPadding(false);
  return new Uint8Array(Buffer.concat([iv, c.update(padded), c.final()]));
}

function decrypt(keys: PacketKeys, payload: Uint8Array): Uint8Array {
  const d = createDecipheriv('aes-128-cbc', keys.k2, payload.subarray(0, 16)).setAutoPadding(false);
  const plain = Buffer.concat([d.update(payload.subarray(16)), d.final()]);
  const padLength = plain[plain.length - 1] ?? 0;
  return new Uint8Array(plain.subarray(0, plain.length - 1 - padLength));
}
const NAME_ONLY_LOOKUP = 0x10;

export interface PipelineResult {
  /** Every datagram received, in arrival order, undecoded. */
  replies: Buffer[];
  sent: number;
  /** Packets written off after a stall (never answered in time). */
  lost: number;
  /** From the first send to the last reply (or the stop). */
  elapsedMs: number;
}

export interface IpmiReply {
  cc: number;
  data: Uint8Array;
}

export class IpmiLanClient {
  private readonly socket: Socket;
  private readonly timeoutMs: number;
  private waiter: ((msg: Buffer) => void) | undefined;
  /** While set (pipeline()), every datagram goes here instead of to `waiter`. */
  private raw: ((msg: Buffer) => void) | undefined;
  private suite: CipherSuite | undefined;
  private bmcSessionId = 0;
  private consoleSessionId = 0;
  private sequence = 0;
  private rqSeq = 0;
  private keys: PacketKeys | undefined;

  private constructor(socket: Socket, timeoutMs: number) {
    this.socket = socket;
    this.timeoutMs = timeoutMs;
    socket.on('message', (msg) => {
      if (this.raw) {
        this.raw(msg);
        return;
      }
      const w = this.waiter;
      this.waiter = undefined;
      w?.(msg);
    });
  }

  static async connect(host: string, port: number, timeoutMs = 2_000): Promise<IpmiLanClient> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    // Connected: the kernel keeps the destination, so no address lookup per send, and only the server's datagrams
    // are delivered.
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(port, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    // A connected socket reports the server's ICMP port-unreachable as an error; the exchange then times out.
    socket.on('error', () => undefined);
    return new IpmiLanClient(socket, timeoutMs);
  }

  close(): void {
    this.socket.close();
  }

  private exchange(packet: Uint8Array): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`no answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.waiter = (msg) => {
        clearTimeout(timer);
        resolve(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength));
      };
      this.socket.send(packet);
    });
  }

  private async sessionless(payloadType: number, payload: Uint8Array, expect: number): Promise<Uint8Array> {
    const header = { payloadType, encrypted: false, authenticated: false, sessionId: 0, sequence: 0 };
    const reply = await this.exchange(encodeRmcp(RmcpClass.Ipmi, encodeSession20({ header, payload })));
    const p = decodeSession20(decodeRmcp(reply).body);
    if (p.header.payloadType !== expect)
      throw new Error(`expected payload type 0x${expect.toString(16)}, got 0x${p.header.payloadType.toString(16)}`);
    return p.payload;
  }

  /** Open Session + RAKP 1..4; throws on any refusal or a bad authentication code. */
  async open(user: string, password: string, suiteId = 3): Promise<void> {
    const suite = suiteById(suiteId);
    if (!suite) throw new Error(`cipher suite ${suiteId} unknown`);
    const hash = authHash(suite.auth) as HashName;
    const tag = randomBytes(1)[0] ?? 0;
    this.consoleSessionId = randomBytes(4).readUInt32LE(0) || 1;
    const osr = decodeOpenSessionResponse(
      await this.sessionless(
        PayloadType.OpenSessionRequest,
        encodeOpenSessionRequest({
          tag,
          requestedPrivilege: ADMIN,
          consoleSessionId: this.consoleSessionId,
          auth: suite.auth,
          integrity: suite.integrity,
          confidentiality: suite.confidentiality,
        }),
        PayloadType.OpenSessionResponse,
      ),
    );
    if (osr.status !== 0) throw new Error(`Open Session refused: status 0x${osr.status.toString(16)}`);
    const kuid = userKey(password);
    const x: RakpExchange = {
      consoleSessionId: this.consoleSessionId,
      bmcSessionId: osr.bmcSessionId,
      consoleRandom: new Uint8Array(randomBytes(16)),
      bmcRandom: new Uint8Array(0),
      bmcGuid: new Uint8Array(0),
      role: ADMIN | NAME_ONLY_LOOKUP,
      userName: new TextEncoder().encode(user),
    };
    const r2 = decodeRakp2(
      await this.sessionless(
        PayloadType.Rakp1,
        encodeRakp1({
          tag,
          bmcSessionId: osr.bmcSessionId,
          consoleRandom: x.consoleRandom,
          role: x.role,
          userName: x.userName,
        }),
        PayloadType.Rakp2,
      ),
    );
    if (r2.status !== 0) throw new Error(`RAKP 2 status 0x${r2.status.toString(16)}`);
    x.bmcRandom = r2.bmcRandom;
    x.bmcGuid = r2.bmcGuid;
    if (Buffer.compare(Buffer.from(rakp2AuthCode(hash, kuid, x)), Buffer.from(r2.authCode)) !== 0)
      throw new Error('RAKP 2 authentication code does not match (wrong password?)');
    const sik = sessionIntegrityKey(hash, kuid, x);
    const r4 = decodeRakp4(
      await this.sessionless(
        PayloadType.Rakp3,
        encodeRakp3({ tag, status: 0, bmcSessionId: osr.bmcSessionId, authCode: rakp3AuthCode(hash, kuid, x) }),
        PayloadType.Rakp4,
      ),
    );
    if (r4.status !== 0) throw new Error(`RAKP 4 status 0x${r4.status.toString(16)}`);
    if (Buffer.compare(Buffer.from(rakp4Icv(hash, sik, x)), Buffer.from(r4.integrityCheck)) !== 0)
      throw new Error('RAKP 4 integrity check value does not match');
    this.suite = suite;
    this.bmcSessionId = osr.bmcSessionId;
    this.keys = {
      k1: createSecretKey(deriveK1(hash, sik)),
      k2: createSecretKey(deriveK2(hash, sik).subarray(0, 16)),
      hash: suite.integrity === IntegrityAlgorithm.HmacSha256_128 ? 'sha256' : 'sha1',
      authCodeLength: suite.integrity === 0 ? 0 : integrityCodeLength(suite.integrity),
    };
    this.sequence = 0;
  }

  /** Builds the next request packet of the session (moves the sequence numbers). */
  private request(netFn: number, cmd: number, data: Uint8Array): Uint8Array {
    const suite = this.suite;
    const keys = this.keys;
    if (!suite || !keys) throw new Error('no session');
    this.rqSeq = (this.rqSeq + 1) & 0x3f;
    this.sequence = (this.sequence + 1) >>> 0 || 1;
    const message = encodeLanRequest({
      rsAddr: BMC_SLAVE_ADDRESS,
      netFn,
      rsLun: 0,
      rqAddr: REMOTE_CONSOLE_SOFTWARE_ID,
      rqSeq: this.rqSeq,
      rqLun: 0,
      cmd,
      data,
    });
    const encrypted = suite.confidentiality !== 0;
    const authenticated = suite.integrity !== 0;
    const header = {
      payloadType: PayloadType.Ipmi,
      encrypted,
      authenticated,
      sessionId: this.bmcSessionId,
      sequence: this.sequence,
    };
    const payload = encrypted ? encrypt(keys, message) : message;
    const signer = (signed: Uint8Array): Uint8Array => sign(keys, signed);
    return encodeRmcp(
      RmcpClass.Ipmi,
      encodeSession20(authenticated ? { header, payload, sign: signer } : { header, payload }),
    );
  }

  /** One IPMI request inside the session; returns the completion code and data. */
  async command(netFn: number, cmd: number, data: Uint8Array = new Uint8Array(0)): Promise<IpmiReply> {
    const keys = this.keys;
    if (!this.suite || !keys) throw new Error('no session');
    const authenticated = this.suite.integrity !== 0;
    const reply = await this.exchange(this.request(netFn, cmd, data));
    const body = decodeRmcp(reply).body;
    const p = decodeSession20(body);
    if (p.header.sessionId !== this.consoleSessionId) throw new Error('reply for another session');
    if (authenticated) {
      const { signed, authCode } = splitTrailer(body, p, keys.authCodeLength);
      if (Buffer.compare(Buffer.from(sign(keys, signed)), Buffer.from(authCode)) !== 0)
        throw new Error('reply integrity check failed');
    }
    const plain = p.header.encrypted ? decrypt(keys, p.payload) : p.payload;
    const res = decodeLanResponse(plain);
    if (res.rqSeq !== this.rqSeq || res.cmd !== cmd) throw new Error('reply to another request');
    return { cc: res.cc, data: res.data };
  }

  /**
   * The next `count` requests of this session, built before any clock starts: consecutive session sequence
   * numbers, each encrypted and signed as negotiated. They must be sent in order (pipeline()); the session's
   * numbering moves past them. `rqSeq` of request i is (first + i) mod 64, so a reply names its request modulo 64.
   */
  prepare(count: number, netFn: number, cmd: number, data: Uint8Array = new Uint8Array(0)): Buffer[] {
    const out: Buffer[] = new Array(count);
    for (let i = 0; i < count; i++) out[i] = Buffer.from(this.request(netFn, cmd, data));
    return out;
  }

  /**
   * Sends `packets` (from prepare()) in order with at most `window` unanswered, and keeps every reply as it came
   * (nothing decoded, decrypted or checked while the clock runs: verify() does that afterwards). Stops when every
   * packet is answered or written off, or after `maxMs`. A packet is written off when nothing arrives for
   * `stallMs`: all then outstanding are counted lost and the window is refilled (UDP, no retries).
   */
  pipeline(packets: Buffer[], window: number, maxMs: number, stallMs = 1000): Promise<PipelineResult> {
    return new Promise((resolve) => {
      const replies: Buffer[] = [];
      let sent = 0;
      let lost = 0;
      let lastProgress = performance.now();
      const t0 = lastProgress;
      const deadline = t0 + maxMs;
      const send = (): void => {
        while (sent < packets.length && sent - replies.length - lost < window) {
          this.socket.send(packets[sent] as Buffer);
          sent++;
        }
      };
      let finished = false;
      const finish = (): void => {
        if (finished) return;
        finished = true;
        const elapsedMs = performance.now() - t0;
        clearInterval(watchdog);
        this.raw = undefined;
        // Packets never sent leave a gap the server's sequence window would refuse: continue after the last sent
        // (RMCP header 4, auth type 1, payload type 1, session ID 4, then the sequence number).
        const last = packets[sent - 1];
        if (last) this.sequence = last.readUInt32LE(10);
        resolve({ replies, sent, lost, elapsedMs });
      };
      const watchdog = setInterval(
        () => {
          const now = performance.now();
          if (now >= deadline) return finish();
          if (now - lastProgress >= stallMs) {
            lost = sent - replies.length;
            lastProgress = now;
            if (sent >= packets.length) return finish();
            send();
          }
        },
        Math.max(10, stallMs / 4),
      );
      this.raw = (msg) => {
        replies.push(msg);
        if (replies.length + lost >= packets.length) return finish();
        // The clock is read once per 64 replies: cheap, and at most 64 replies late.
        if ((replies.length & 63) === 0) {
          lastProgress = performance.now();
          if (lastProgress >= deadline) return finish();
        }
        send();
      };
      send();
    });
  }

  /** Decodes, checks (integrity, session, command) and decrypts a reply to this session; returns its completion code. */
  verify(reply: Uint8Array, cmd: number): number {
    const keys = this.keys;
    if (!this.suite || !keys) throw new Error('no session');
    const body = decodeRmcp(reply).body;
    const p = decodeSession20(body);
    if (p.header.sessionId !== this.consoleSessionId) throw new Error('reply for another session');
    if (p.header.authenticated) {
      const { signed, authCode } = splitTrailer(body, p, keys.authCodeLength);
      if (Buffer.compare(Buffer.from(sign(keys, signed)), Buffer.from(authCode)) !== 0)
        throw new Error('reply integrity check failed');
    } else if (this.suite.integrity !== 0) throw new Error('reply without integrity');
    const plain = p.header.encrypted ? decrypt(keys, p.payload) : p.payload;
    const res = decodeLanResponse(plain);
    if (res.cmd !== cmd) throw new Error('reply to another command');
    return res.cc;
  }

  /** Close Session (App 0x3C) for the current session. */
  async closeSession(): Promise<void> {
    const id = new Uint8Array(4);
    new DataView(id.buffer).setUint32(0, this.bmcSessionId, true);
    const r = await this.command(0x06, 0x3c, id);
    this.suite = undefined;
    this.keys = undefined;
    if (r.cc !== 0) throw new Error(`Close Session: completion code 0x${r.cc.toString(16)}`);
  }
}
