// RMCP header (DMTF ASF 2.0 §3.2.2.1; IPMI 2.0 §13.1.3): version, reserved, sequence, class.
import { CodecError, concatBytes, need } from './errors.ts';

export const RMCP_VERSION = 0x06;
/** Sequence number 0xFF: "do not send an RMCP ACK" — what IPMI uses for all traffic. */
export const RMCP_NO_ACK_SEQUENCE = 0xff;
export const RmcpClass = { Asf: 0x06, Ipmi: 0x07 } as const;

export interface RmcpHeader {
  sequence: number;
  messageClass: number; // low 5 bits
  ack: boolean; // bit 7: this is an RMCP ACK
}

export interface RmcpPacket {
  header: RmcpHeader;
  body: Uint8Array;
}

export const RMCP_HEADER_LENGTH = 4;

export function decodeRmcp(packet: Uint8Array): RmcpPacket {
  need(packet, RMCP_HEADER_LENGTH, 'RMCP header');
  if (packet[0] !== RMCP_VERSION)
    throw new CodecError('rmcp-version', `RMCP version 0x${(packet[0] ?? 0).toString(16)} is not 0x06`);
  const cls = packet[3] ?? 0;
  return {
    header: { sequence: packet[2] ?? 0, messageClass: cls & 0x1f, ack: (cls & 0x80) !== 0 },
    body: packet.subarray(RMCP_HEADER_LENGTH),
  };
}

export function encodeRmcp(messageClass: number, body: Uint8Array, sequence = RMCP_NO_ACK_SEQUENCE): Uint8Array {
  return concatBytes(Uint8Array.of(RMCP_VERSION, 0x00, sequence & 0xff, messageClass & 0x1f), body);
}
