import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeAsf,
  encodePresencePing,
  encodePresencePong,
  pongSupportsIpmi,
} from '../../../../bmc-agent/src/ipmi/codec/asf.ts';
import { CodecError } from '../../../../bmc-agent/src/ipmi/codec/errors.ts';
import {
  checksum,
  decodeLanRequest,
  decodeLanResponse,
  encodeLanRequest,
  responseFor,
} from '../../../../bmc-agent/src/ipmi/codec/message.ts';
import {
  decodeOpenSessionRequest,
  decodeOpenSessionResponse,
  decodeRakp1,
  decodeRakp2,
  decodeRakp3,
  decodeRakp4,
  encodeOpenSessionRequest,
  encodeOpenSessionResponse,
  encodeRakp1,
  encodeRakp2,
  encodeRakp4,
} from '../../../../bmc-agent/src/ipmi/codec/rakp.ts';
import { decodeRmcp, encodeRmcp, RmcpClass } from '../../../../bmc-agent/src/ipmi/codec/rmcp.ts';
import { decodeSession15, encodeSession15 } from '../../../../bmc-agent/src/ipmi/codec/session15.ts';
import {
  decodeSession20,
  encodeSession20,
  integrityPadLength,
  PayloadType,
  splitTrailer,
} from '../../../../bmc-agent/src/ipmi/codec/session20.ts';
import { loadCapture, payloadTypeOf } from '../fixtures/load.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('RMCP', () => {
  it('decodes the class and ack bit and keeps the body', () => {
    const p = decodeRmcp(hex('0600ff07 aabb'));
    expect(p.header).toEqual({ sequence: 0xff, messageClass: RmcpClass.Ipmi, ack: false });
    expect(toHex(p.body)).toBe('aabb');
    expect(decodeRmcp(hex('0600ff86')).header).toEqual({ sequence: 0xff, messageClass: RmcpClass.Asf, ack: true });
  });
  it('refuses other versions and short packets', () => {
    expect(() => decodeRmcp(hex('0700ff07'))).toThrow(CodecError);
    expect(() => decodeRmcp(hex('0600ff'))).toThrow(CodecError);
  });
  it('encodes with sequence 0xFF (no RMCP ACK wanted)', () => {
    expect(toHex(encodeRmcp(RmcpClass.Ipmi, hex('01')))).toBe('0600ff0701');
  });
});

describe('ASF presence ping/pong (ASF 2.0 §3.2.4)', () => {
  it('answers a ping with the same tag and IPMI in the supported entities', () => {
    expect(toHex(encodePresencePing(0x42))).toBe('000011be80420000');
    const pong = encodePresencePong(0x42);
    expect(toHex(pong)).toBe(`000011be40420010${'000011be'}00000000${'81'}00${'000000000000'}`);
    const msg = decodeAsf(pong);
    expect(msg.tag).toBe(0x42);
    expect(pongSupportsIpmi(msg)).toBe(true);
  });
  it('refuses a wrong IANA number and a data length past the end', () => {
    expect(() => decodeAsf(hex('000011bf80420000'))).toThrow(CodecError);
    expect(() => decodeAsf(hex('000011be80420004 00'))).toThrow(CodecError);
  });
});

describe('IPMI LAN message', () => {
  // Get Channel Authentication Capabilities as ipmitool sends it (captured).
  const getAuthCap = hex('2018c8 81 00 38 8e04 b5');

  it('decodes a captured request and checks both checksums', () => {
    const r = decodeLanRequest(getAuthCap);
    expect(r).toMatchObject({ rsAddr: 0x20, netFn: 6, rsLun: 0, rqAddr: 0x81, rqSeq: 0, cmd: 0x38 });
    expect(toHex(r.data)).toBe('8e04');
    const bad = getAuthCap.slice();
    bad[6] = 0x0e;
    expect(() => decodeLanRequest(bad)).toThrow(/checksum/);
    bad[6] = 0x8e;
    bad[2] = 0;
    expect(() => decodeLanRequest(bad)).toThrow(/checksum/);
  });

  it('echoes rqSeq and LUNs in the response and sets netFn + 1', () => {
    const req = {
      rsAddr: 0x20,
      netFn: 0x06,
      rsLun: 0,
      rqAddr: 0x81,
      rqSeq: 0x2a,
      rqLun: 2,
      cmd: 0x01,
      data: new Uint8Array(),
    };
    const res = decodeLanResponse(responseFor(req, 0x00, hex('20 81')));
    expect(res).toMatchObject({ rqAddr: 0x81, netFn: 0x07, rqLun: 2, rsAddr: 0x20, rqSeq: 0x2a, cmd: 0x01, cc: 0 });
    expect(toHex(res.data)).toBe('2081');
  });

  it('refuses a response netFn as a request', () => {
    const b = encodeLanRequest({
      rsAddr: 0x20,
      netFn: 7,
      rsLun: 0,
      rqAddr: 0x81,
      rqSeq: 1,
      rqLun: 0,
      cmd: 1,
      data: new Uint8Array(),
    });
    expect(() => decodeLanRequest(b)).toThrow(CodecError);
  });

  it('computes two-complement checksums', () => {
    expect(checksum(hex('2018'))).toBe(0xc8);
    expect(checksum(new Uint8Array())).toBe(0);
  });
});

describe('IPMI 1.5 session header', () => {
  it('decodes the captured sessionless Get Channel Auth Capabilities and re-encodes it byte for byte', () => {
    const first = loadCapture('ipmitool-c17.json').packets[0];
    if (!first) throw new Error('empty capture');
    const body = decodeRmcp(first.bytes).body;
    const p = decodeSession15(body);
    expect(p).toMatchObject({ authType: 0, sequence: 0, sessionId: 0, authCode: undefined });
    expect(decodeLanRequest(p.message).cmd).toBe(0x38);
    expect(toHex(encodeSession15({ authType: 0, sequence: 0, sessionId: 0, message: p.message }))).toBe(
      toHex(body.subarray(0, 10 + p.message.length)),
    );
  });
  it('carries a 16-byte auth code for authenticated types', () => {
    const enc = encodeSession15({
      authType: 2,
      sequence: 7,
      sessionId: 0x11223344,
      authCode: new Uint8Array(16).fill(9),
      message: hex('0102'),
    });
    const dec = decodeSession15(enc);
    expect(dec.sequence).toBe(7);
    expect(dec.sessionId).toBe(0x11223344);
    expect(toHex(dec.authCode ?? new Uint8Array())).toBe('09'.repeat(16));
    expect(toHex(dec.message)).toBe('0102');
  });
  it('refuses an IPMI 2.0 header and a message length past the end', () => {
    expect(() => decodeSession15(hex('06 00000000 00000000 00'))).toThrow(CodecError);
    expect(() => decodeSession15(hex('00 00000000 00000000 05 0102'))).toThrow(CodecError);
  });
});

describe('IPMI 2.0 session header and integrity trailer', () => {
  it('pads AuthType..NextHeader to a multiple of 4 (IPMI 2.0 §13.28.5)', () => {
    for (let n = 12; n < 40; n++) expect((n + integrityPadLength(n) + 2) % 4).toBe(0);
  });

  it('round-trips an authenticated packet and splits its trailer', () => {
    const sign = (s: Uint8Array): Uint8Array => new Uint8Array(12).fill(s.length);
    const header = {
      payloadType: PayloadType.Ipmi,
      encrypted: true,
      authenticated: true,
      sessionId: 0xa0a2a3a4,
      sequence: 5,
    };
    const body = encodeSession20({ header, payload: hex('0102030405'), sign });
    const p = decodeSession20(body);
    expect(p.header).toEqual(header);
    expect(toHex(p.payload)).toBe('0102030405');
    const t = splitTrailer(body, p, 12);
    expect(t.signed.length % 4).toBe(0);
    expect(t.signed.at(-1)).toBe(0x07);
    expect(toHex(t.authCode)).toBe(toHex(sign(t.signed)));
  });

  it('refuses a trailer with a wrong pad length, next header or AuthCode length', () => {
    const header = { payloadType: PayloadType.Ipmi, encrypted: false, authenticated: true, sessionId: 1, sequence: 1 };
    const body = encodeSession20({ header, payload: hex('010203'), sign: () => new Uint8Array(12) });
    const p = decodeSession20(body);
    expect(() => splitTrailer(body, p, 16)).toThrow(CodecError);
    const pad = integrityPadLength(p.trailerOffset);
    const badPad = body.slice();
    badPad[p.trailerOffset + pad] = pad + 1;
    expect(() => splitTrailer(badPad, decodeSession20(badPad), 12)).toThrow(/pad/);
    const badNext = body.slice();
    badNext[p.trailerOffset + pad + 1] = 0x06;
    expect(() => splitTrailer(badNext, decodeSession20(badNext), 12)).toThrow(/next header/);
  });

  it('refuses bytes after an unauthenticated payload and a payload length past the end', () => {
    const body = encodeSession20({
      header: { payloadType: 0x10, encrypted: false, authenticated: false, sessionId: 0, sequence: 0 },
      payload: hex('00'),
    });
    expect(() => decodeSession20(Uint8Array.from([...body, 0]))).toThrow(CodecError);
    expect(() => decodeSession20(body.subarray(0, body.length - 1))).toThrow(CodecError);
  });

  it('decodes an OEM explicit payload header', () => {
    const header = {
      payloadType: PayloadType.Oem,
      encrypted: false,
      authenticated: false,
      sessionId: 9,
      sequence: 3,
      oem: { iana: 7154, payloadId: 2 },
    };
    expect(decodeSession20(encodeSession20({ header, payload: hex('aa') })).header).toEqual(header);
  });
});

describe('RMCP+ establishment payloads', () => {
  it('decodes the captured ipmitool Open Session Request (suite 17) and RAKP 1', () => {
    const cap = loadCapture('ipmitool-c17.json');
    const open = cap.packets.find(
      (p) => p.from === 'client' && payloadTypeOf(p.bytes) === PayloadType.OpenSessionRequest,
    );
    const r1 = cap.packets.find((p) => p.from === 'client' && payloadTypeOf(p.bytes) === PayloadType.Rakp1);
    if (!open || !r1) throw new Error('capture lacks Open Session / RAKP 1');
    const req = decodeOpenSessionRequest(decodeSession20(decodeRmcp(open.bytes).body).payload);
    // 0: 'the highest level matching the proposed algorithms'
    expect(req).toMatchObject({ requestedPrivilege: 0, auth: 3, integrity: 4, confidentiality: 1 });
    expect(toHex(encodeOpenSessionRequest(req))).toBe(toHex(decodeSession20(decodeRmcp(open.bytes).body).payload));
    const rakp1 = decodeRakp1(decodeSession20(decodeRmcp(r1.bytes).body).payload);
    expect(new TextDecoder().decode(rakp1.userName)).toBe('admin');
    expect(rakp1.role).toBe(0x14); // Administrator with name-only lookup: ipmitool's default
    expect(toHex(encodeRakp1(rakp1))).toBe(toHex(decodeSession20(decodeRmcp(r1.bytes).body).payload));
  });

  it('round-trips responses and shortens error responses to tag, status and session ID', () => {
    const ok = {
      tag: 7,
      status: 0,
      maxPrivilege: 4,
      consoleSessionId: 0x01020304,
      bmcSessionId: 0x0a0b0c0d,
      auth: 1,
      integrity: 1,
      confidentiality: 1,
    };
    expect(decodeOpenSessionResponse(encodeOpenSessionResponse(ok))).toEqual(ok);
    expect(encodeOpenSessionResponse({ ...ok, status: 0x11 }).length).toBe(8);
    expect(
      toHex(
        encodeRakp2({
          tag: 1,
          status: 0x0d,
          consoleSessionId: 5,
          bmcRandom: new Uint8Array(),
          bmcGuid: new Uint8Array(),
          authCode: new Uint8Array(),
        }),
      ),
    ).toBe('010d000005000000');
    const r2 = {
      tag: 1,
      status: 0,
      consoleSessionId: 5,
      bmcRandom: new Uint8Array(16).fill(1),
      bmcGuid: new Uint8Array(16).fill(2),
      authCode: new Uint8Array(20).fill(3),
    };
    expect(decodeRakp2(encodeRakp2(r2))).toEqual(r2);
    const r4 = { tag: 3, status: 0, consoleSessionId: 5, integrityCheck: new Uint8Array(12).fill(4) };
    expect(decodeRakp4(encodeRakp4(r4))).toEqual(r4);
  });

  it('refuses a RAKP 1 whose name is longer than 16 bytes or whose length disagrees', () => {
    const base = { tag: 1, bmcSessionId: 1, consoleRandom: new Uint8Array(16), role: 4 };
    const long = encodeRakp1({ ...base, userName: new Uint8Array(17).fill(0x61) });
    expect(() => decodeRakp1(long)).toThrow(/exceeds 16/);
    const ok = encodeRakp1({ ...base, userName: new Uint8Array(3).fill(0x61) });
    expect(() => decodeRakp1(ok.subarray(0, ok.length - 1))).toThrow(CodecError);
    expect(() => decodeRakp3(hex('0100'))).toThrow(CodecError);
  });
});

describe('every decoder', () => {
  it('throws only CodecError on arbitrary bytes', () => {
    const decoders = [
      decodeRmcp,
      decodeAsf,
      decodeSession15,
      decodeSession20,
      decodeLanRequest,
      decodeLanResponse,
      decodeOpenSessionRequest,
      decodeOpenSessionResponse,
      decodeRakp1,
      decodeRakp2,
      decodeRakp3,
      decodeRakp4,
    ];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        for (const decode of decoders) {
          try {
            decode(bytes);
          } catch (err) {
            if (!(err instanceof CodecError)) throw err;
          }
        }
      }),
      { numRuns: 3000 },
    );
  });
});
