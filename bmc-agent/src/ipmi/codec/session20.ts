// IPMI v2.0 / RMCP+ session header and trailer (IPMI 2.0 §13.6, table 13-8):
// authType(06) | payload type (bit7 encrypted, bit6 authenticated) | [OEM IANA + payload ID] | session ID | sequence |
// payload length (LE16) | payload | [integrity pad | pad length | next header (07) | AuthCode].

import { CodecError, concatBytes, need, putU16le, putU32le, u16le, u32le } from './errors.ts';
import { AuthType } from './session15.ts';

export const PayloadType = {
  Ipmi: 0x00,
  Sol: 0x01,
  Oem: 0x02,
  OpenSessionRequest: 0x10,
  OpenSessionResponse: 0x11,
  Rakp1: 0x12,
  Rakp2: 0x13,
  Rakp3: 0x14,
  Rakp4: 0x15,
} as const;

export const NEXT_HEADER = 0x07;
/** Session header length for every payload type but OEM (2): auth type, payload type, ID, sequence, length. */
export const SESSION20_HEADER_LENGTH = 12;

export interface Session20Header {
  payloadType: number; // low 6 bits
  encrypted: boolean;
  authenticated: boolean;
  sessionId: number;
  sequence: number;
  oem?: { iana: number; payloadId: number };
}

export interface Session20Packet {
  header: Session20Header;
  /** The payload as on the wire (still encrypted when header.encrypted). */
  payload: Uint8Array;
  /** Present when header.authenticated: the bytes after the payload (pad, pad length, next header, AuthCode). */
  trailer: Uint8Array;
  /** Offset of the trailer within the decoded body; AuthType..NextHeader is body[0 .. trailerOffset + pad + 2). */
  trailerOffset: number;
}

export function decodeSession20(body: Uint8Array): Session20Packet {
  need(body, 12, 'IPMI 2.0 session header');
  if (((body[0] ?? 0) & 0x0f) !== AuthType.RmcpPlus) throw new CodecError('session-format', 'not an RMCP+ header');
  const typeByte = body[1] ?? 0;
  const payloadType = typeByte & 0x3f;
  let at = 2;
  let oem: Session20Header['oem'];
  if (payloadType === PayloadType.Oem) {
    need(body, 18, 'IPMI 2.0 OEM payload header');
    oem = { iana: u32le(body, 2), payloadId: u16le(body, 6) };
    at = 8;
  }
  const sessionId = u32le(body, at);
  const sequence = u32le(body, at + 4);
  const length = u16le(body, at + 8);
  at += 10;
  need(body, at + length, 'IPMI 2.0 payload');
  const header: Session20Header = {
    payloadType,
    encrypted: (typeByte & 0x80) !== 0,
    authenticated: (typeByte & 0x40) !== 0,
    sessionId,
    sequence,
  };
  if (oem) header.oem = oem;
  const trailerOffset = at + length;
  const trailer = body.subarray(trailerOffset);
  if (!header.authenticated && trailer.length > 0)
    throw new CodecError('trailing-bytes', 'bytes after an unauthenticated payload');
  return { header, payload: body.subarray(at, trailerOffset), trailer, trailerOffset };
}

/** Integrity pad length that makes AuthType..NextHeader a multiple of 4 bytes (IPMI 2.0 §13.28.5). */
export function integrityPadLength(headerAndPayloadLength: number): number {
  return (4 - ((headerAndPayloadLength + 2) % 4)) % 4;
}

/**
 * Splits and checks an authenticated packet's trailer for an AuthCode of `authCodeLength` bytes.
 * Returns the signed span (AuthType..NextHeader) and the AuthCode; throws on any inconsistency.
 */
export function splitTrailer(
  body: Uint8Array,
  packet: Session20Packet,
  authCodeLength: number,
): { signed: Uint8Array; authCode: Uint8Array } {
  const pad = integrityPadLength(packet.trailerOffset);
  if (packet.trailer.length !== pad + 2 + authCodeLength)
    throw new CodecError('trailer-length', 'integrity trailer has the wrong length');
  const padLength = packet.trailer[pad];
  const nextHeader = packet.trailer[pad + 1];
  if (padLength !== pad) throw new CodecError('trailer-pad', `integrity pad length ${padLength} is not ${pad}`);
  if (nextHeader !== NEXT_HEADER) throw new CodecError('trailer-next-header', 'next header is not 0x07');
  // Pad byte values are not checked: they are covered by the AuthCode, and clients differ.
  const signedEnd = packet.trailerOffset + pad + 2;
  return { signed: body.subarray(0, signedEnd), authCode: body.subarray(signedEnd) };
}

export interface Session20Encode {
  header: Session20Header;
  /** Already encrypted when header.encrypted. */
  payload: Uint8Array;
  /** Required when header.authenticated: computes the AuthCode over AuthType..NextHeader. */
  sign?: (signed: Uint8Array) => Uint8Array;
}

export function encodeSession20({ header, payload, sign }: Session20Encode): Uint8Array {
  if (payload.length > 0xffff) throw new CodecError('too-long', 'payload longer than 65535 bytes');
  const oem = header.payloadType === PayloadType.Oem;
  const head = new Uint8Array(oem ? 18 : 12);
  head[0] = AuthType.RmcpPlus;
  head[1] = (header.payloadType & 0x3f) | (header.encrypted ? 0x80 : 0) | (header.authenticated ? 0x40 : 0);
  let at = 2;
  if (oem) {
    putU32le(head, 2, header.oem?.iana ?? 0);
    putU16le(head, 6, header.oem?.payloadId ?? 0);
    at = 8;
  }
  putU32le(head, at, header.sessionId);
  putU32le(head, at + 4, header.sequence);
  putU16le(head, at + 8, payload.length);
  const unsigned = concatBytes(head, payload);
  if (!header.authenticated) return unsigned;
  if (!sign) throw new CodecError('no-integrity', 'authenticated packet needs a signer');
  const pad = integrityPadLength(unsigned.length);
  const padBytes = new Uint8Array(pad).fill(0xff);
  const signed = concatBytes(unsigned, padBytes, Uint8Array.of(pad, NEXT_HEADER));
  return concatBytes(signed, sign(signed));
}
