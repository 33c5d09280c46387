// The SOL payload (IPMI 2.0 §15.9, payload type 01h): a four-byte header, then character data.
//   byte 0: packet sequence number (1..15; 0 = ack-only packet, carries no data)
//   byte 1: sequence number being acknowledged or nacked (0 = none)
//   byte 2: accepted character count (of the packet being acknowledged)
//   byte 3: operation (console -> BMC) or status (BMC -> console)

/** Operation bits a remote console sends (table 15-2). */
export const SolOperation = {
  Nack: 0x40,
  RingWor: 0x20,
  GenerateBreak: 0x10,
  CtsPause: 0x08,
  DropDcdDsr: 0x04,
  FlushInbound: 0x02,
  FlushOutbound: 0x01,
} as const;

/** Status bits the BMC sends (table 15-3). */
export const SolStatus = {
  Nack: 0x40,
  CharacterTransferUnavailable: 0x20,
  Deactivating: 0x10,
  TransmitOverrun: 0x08,
  BreakDetected: 0x04,
} as const;

export interface SolPacket {
  seq: number;
  ackSeq: number;
  accepted: number;
  flags: number;
  data: Uint8Array;
}

export const SOL_HEADER_SIZE = 4;

export function encodeSolPacket(p: SolPacket): Uint8Array {
  const out = new Uint8Array(SOL_HEADER_SIZE + p.data.length);
  out[0] = p.seq & 0x0f;
  out[1] = p.ackSeq & 0x0f;
  out[2] = p.accepted & 0xff;
  out[3] = p.flags & 0xff;
  out.set(p.data, SOL_HEADER_SIZE);
  return out;
}

/** Null when shorter than the header. Reserved high nibbles of the sequence bytes are ignored, as the spec asks. */
export function decodeSolPacket(bytes: Uint8Array): SolPacket | null {
  if (bytes.length < SOL_HEADER_SIZE) return null;
  return {
    seq: bytes[0]! & 0x0f,
    ackSeq: bytes[1]! & 0x0f,
    accepted: bytes[2]!,
    flags: bytes[3]!,
    data: bytes.slice(SOL_HEADER_SIZE),
  };
}

/** Next packet sequence number: 1..15, wrapping past 0, which means "no data". */
export function nextSolSeq(seq: number): number {
  return (seq % 15) + 1;
}
