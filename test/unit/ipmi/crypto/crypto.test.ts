// Crypto vectors from real clients: the ipmitool (suites 17 and 3) and freeipmi (suite 3) exchanges in fixtures/,
// recorded with fixtures/capture.ts. The clients computed RAKP 3 codes, session keys (ipmitool prints them with
// -vvvv) and per-packet AuthCodes themselves, so matching them checks our formulas against independent code.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeLanRequest } from '../../../../bmc-agent/src/ipmi/codec/message.ts';
import {
  decodeOpenSessionResponse,
  decodeRakp1,
  decodeRakp2,
  decodeRakp3,
  decodeRakp4,
} from '../../../../bmc-agent/src/ipmi/codec/rakp.ts';
import { decodeRmcp } from '../../../../bmc-agent/src/ipmi/codec/rmcp.ts';
import { decodeSession20, PayloadType, splitTrailer } from '../../../../bmc-agent/src/ipmi/codec/session20.ts';
import {
  authHash,
  type RakpExchange,
  rakp2AuthCode,
  rakp3AuthCode,
  rakp4Icv,
  userKey,
} from '../../../../bmc-agent/src/ipmi/crypto/auth.ts';
import { decryptAesCbc128, encryptAesCbc128 } from '../../../../bmc-agent/src/ipmi/crypto/confidentiality.ts';
import {
  integrityCode,
  integrityCodeLength,
  verifyIntegrity,
} from '../../../../bmc-agent/src/ipmi/crypto/integrity.ts';
import { k1, k2, sessionIntegrityKey } from '../../../../bmc-agent/src/ipmi/crypto/keys.ts';
import { matchSuite, suiteById } from '../../../../bmc-agent/src/ipmi/crypto/suites.ts';
import { type Capture, ipmitoolDump, loadCapture, payloadTypeOf } from '../fixtures/load.ts';

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function payloadOf(cap: Capture, from: 'client' | 'bmc', type: number): Uint8Array {
  const p = cap.packets.find((q) => q.from === from && payloadTypeOf(q.bytes) === type);
  if (!p) throw new Error(`capture has no ${from} payload 0x${type.toString(16)}`);
  return decodeSession20(decodeRmcp(p.bytes).body).payload;
}

function exchangeOf(cap: Capture) {
  const open = decodeOpenSessionResponse(payloadOf(cap, 'bmc', PayloadType.OpenSessionResponse));
  const r1 = decodeRakp1(payloadOf(cap, 'client', PayloadType.Rakp1));
  const r2 = decodeRakp2(payloadOf(cap, 'bmc', PayloadType.Rakp2));
  const r3 = decodeRakp3(payloadOf(cap, 'client', PayloadType.Rakp3));
  const r4 = decodeRakp4(payloadOf(cap, 'bmc', PayloadType.Rakp4));
  const x: RakpExchange = {
    consoleSessionId: open.consoleSessionId,
    bmcSessionId: open.bmcSessionId,
    consoleRandom: r1.consoleRandom,
    bmcRandom: r2.bmcRandom,
    bmcGuid: r2.bmcGuid,
    role: r1.role,
    userName: r1.userName,
  };
  const suite = suiteById(open.auth === 3 ? 17 : 3);
  if (!suite) throw new Error('no suite');
  return { open, r2, r3, r4, x, suite };
}

const captures = [
  { file: 'ipmitool-c17.json', suite: 17, ipmitool: true },
  { file: 'ipmitool-c3.json', suite: 3, ipmitool: true },
  { file: 'freeipmi-bmc-info.json', suite: 3, ipmitool: false },
];

describe.each(captures)('$file', ({ file, suite: suiteId }) => {
  const cap = loadCapture(file);
  const { r2, r3, r4, x, suite } = exchangeOf(cap);
  const hash = authHash(suite.auth);
  if (!hash) throw new Error('suite without authentication');
  const kuid = userKey('password');
  const sik = sessionIntegrityKey(hash, kuid, x);
  const keys = { k1: k1(hash, sik), k2: k2(hash, sik) };

  it(`negotiated suite ${suiteId}`, () => {
    expect(suite.id).toBe(suiteId);
  });

  it('RAKP 2 code is what the client accepted, RAKP 3 code is what the client computed', () => {
    expect(toHex(rakp2AuthCode(hash, kuid, x))).toBe(toHex(r2.authCode));
    expect(r3.status).toBe(0);
    expect(toHex(rakp3AuthCode(hash, kuid, x))).toBe(toHex(r3.authCode));
    expect(toHex(rakp3AuthCode(hash, userKey('passw0rd'), x))).not.toBe(toHex(r3.authCode));
  });

  it('RAKP 4 integrity check value matches', () => {
    expect(toHex(rakp4Icv(hash, sik, x))).toBe(toHex(r4.integrityCheck));
  });

  it("verifies every session packet's AuthCode and decrypts every payload, both directions", () => {
    const sessionPackets = cap.packets.filter(
      (p) => payloadTypeOf(p.bytes) === PayloadType.Ipmi && ((p.bytes[5] ?? 0) & 0x40) !== 0,
    );
    expect(sessionPackets.length).toBeGreaterThanOrEqual(4);
    const commands: number[] = [];
    for (const p of sessionPackets) {
      const body = decodeRmcp(p.bytes).body;
      const packet = decodeSession20(body);
      const { signed, authCode } = splitTrailer(body, packet, integrityCodeLength(suite.integrity));
      expect(verifyIntegrity(suite.integrity, keys.k1, signed, authCode)).toBe(true);
      const tampered = signed.slice();
      tampered[signed.length - 3] = (tampered[signed.length - 3] ?? 0) ^ 1;
      expect(verifyIntegrity(suite.integrity, keys.k1, tampered, authCode)).toBe(false);
      const message = decryptAesCbc128(keys.k2, packet.payload);
      if (p.from === 'client') commands.push(decodeLanRequest(message).cmd);
    }
    // Every client opens with Set Session Privilege Level (0x3B) and ends with Close Session (0x3C).
    expect(commands[0]).toBe(0x3b);
    expect(commands.at(-1)).toBe(0x3c);
  });
});

describe.each(captures.filter((c) => c.ipmitool))('$file keys', ({ file }) => {
  it('SIK, K1 and K2 equal the keys ipmitool derived', () => {
    const cap = loadCapture(file);
    const { x, suite } = exchangeOf(cap);
    const hash = authHash(suite.auth) ?? 'sha1';
    const sik = sessionIntegrityKey(hash, userKey('password'), x);
    expect(toHex(sik)).toBe(toHex(ipmitoolDump(cap.stderr, 'Generated session integrity key')));
    expect(toHex(k1(hash, sik))).toBe(toHex(ipmitoolDump(cap.stderr, 'Generated K1')));
    expect(toHex(k2(hash, sik))).toBe(toHex(ipmitoolDump(cap.stderr, 'Generated K2')));
  });
});

describe('keys (IPMI 2.0 §13.32)', () => {
  it('derive K1 and K2 from 20-byte constants for SHA-256 too, as ipmitool does', () => {
    const sik = new Uint8Array(32).fill(7);
    expect(toHex(k1('sha256', sik))).toBe(createHmac('sha256', sik).update(Buffer.alloc(20, 1)).digest('hex'));
    expect(toHex(k2('sha1', sik))).toBe(createHmac('sha1', sik).update(Buffer.alloc(20, 2)).digest('hex'));
  });
  it('pad the user key to 20 bytes and refuse longer passwords', () => {
    expect(toHex(userKey('ab'))).toBe(`6162${'00'.repeat(18)}`);
    expect(() => userKey('x'.repeat(21))).toThrow(/20 bytes/);
  });
});

describe('integrity algorithms', () => {
  it('truncate HMAC-SHA1 to 96 bits and HMAC-SHA256 to 128 bits', () => {
    const key = new Uint8Array(20).fill(1);
    const data = new Uint8Array([1, 2, 3]);
    expect(toHex(integrityCode(1, key, data))).toBe(createHmac('sha1', key).update(data).digest('hex').slice(0, 24));
    expect(toHex(integrityCode(4, key, data))).toBe(createHmac('sha256', key).update(data).digest('hex').slice(0, 32));
    expect(verifyIntegrity(1, key, data, integrityCode(1, key, data).subarray(0, 11))).toBe(false);
  });
});

describe('AES-CBC-128 confidentiality (IPMI 2.0 §13.29)', () => {
  const k2v = new Uint8Array(20).map((_, i) => i);
  it('pads with 1, 2, 3, ... then the pad length, to whole blocks', () => {
    const iv = new Uint8Array(16).fill(0xaa);
    for (let n = 0; n < 40; n++) {
      const data = new Uint8Array(n).fill(0x55);
      const enc = encryptAesCbc128(k2v, data, iv);
      expect(enc.length % 16).toBe(0);
      expect(toHex(enc.subarray(0, 16))).toBe('aa'.repeat(16));
      expect(toHex(decryptAesCbc128(k2v, enc))).toBe(toHex(data));
    }
  });
  it('refuses ciphertext that is not IV plus whole blocks, or whose pad is wrong', () => {
    expect(() => decryptAesCbc128(k2v, new Uint8Array(31))).toThrow(/whole blocks/);
    expect(() => decryptAesCbc128(k2v, new Uint8Array(16))).toThrow();
    const enc = encryptAesCbc128(k2v, new Uint8Array(3));
    // Flipping a bit of the IV flips the same bit of the first plaintext block: a pad byte here.
    const bad = enc.slice();
    bad[5] = (bad[5] ?? 0) ^ 0x01;
    expect(() => decryptAesCbc128(k2v, bad)).toThrow(/pad/);
  });
});

describe('cipher suite matching', () => {
  it('matches exact proposals among the enabled suites and reports why others fail', () => {
    expect(matchSuite([3, 17], { auth: 3, integrity: 4, confidentiality: 1 })).toEqual({
      suite: suiteById(17),
      index: 1,
    });
    expect(matchSuite([3, 17], { auth: 0, integrity: 0, confidentiality: 0 })).toEqual({ status: 0x04 });
    expect(matchSuite([3, 17], { auth: 1, integrity: 4, confidentiality: 1 })).toEqual({ status: 0x05 });
    expect(matchSuite([3, 17], { auth: 1, integrity: 1, confidentiality: 0 })).toEqual({ status: 0x11 });
    expect(matchSuite([0, 3], { auth: 0, integrity: 0, confidentiality: 0 })).toEqual({
      suite: suiteById(0),
      index: 0,
    });
    expect(matchSuite([17], { auth: undefined, integrity: undefined, confidentiality: undefined })).toEqual({
      suite: suiteById(17),
      index: 0,
    });
  });
});
