// ASF presence ping/pong (DMTF ASF 2.0 §3.2.4), carried in RMCP class 6. Clients use it to find IPMI-capable BMCs.
import { CodecError, concatBytes, need } from './errors.ts';

export const ASF_IANA = 4542; // 0x000011BE, sent most significant byte first
export const AsfType = { PresencePing: 0x80, PresencePong: 0x40 } as const;

export interface AsfMessage {
  iana: number;
  type: number;
  tag: number;
  data: Uint8Array;
}

export function decodeAsf(body: Uint8Array): AsfMessage {
  need(body, 8, 'ASF header');
  const iana = (((body[0] ?? 0) << 24) | ((body[1] ?? 0) << 16) | ((body[2] ?? 0) << 8) | (body[3] ?? 0)) >>> 0;
  const length = body[7] ?? 0;
  need(body, 8 + length, 'ASF data');
  if (iana !== ASF_IANA) throw new CodecError('asf-iana', `ASF IANA ${iana} is not ${ASF_IANA}`);
  return { iana, type: body[4] ?? 0, tag: body[5] ?? 0, data: body.subarray(8, 8 + length) };
}

function asfHeader(type: number, tag: number, length: number): Uint8Array {
  return Uint8Array.of(0x00, 0x00, 0x11, 0xbe, type, tag, 0x00, length);
}

export function encodePresencePing(tag: number): Uint8Array {
  return asfHeader(AsfType.PresencePing, tag & 0xff, 0);
}

/** Pong data: IANA, OEM-defined (0), supported entities (0x81: IPMI, ASF 1.0), interactions (0), reserved. */
export function encodePresencePong(tag: number): Uint8Array {
  const data = new Uint8Array(16);
  data.set([0x00, 0x00, 0x11, 0xbe], 0);
  data[8] = 0x81;
  return concatBytes(asfHeader(AsfType.PresencePong, tag & 0xff, data.length), data);
}

/** True when the pong says IPMI is supported (bit 7 of supported entities). */
export function pongSupportsIpmi(message: AsfMessage): boolean {
  return message.type === AsfType.PresencePong && message.data.length >= 9 && ((message.data[8] ?? 0) & 0x80) !== 0;
}
