// IPMI LAN message framing (IPMI 2.0 §13.8): rsAddr | netFn/rsLUN | chk1 | rqAddr | rqSeq/rqLUN | cmd | data | chk2.
import { CodecError, need } from './errors.ts';

export const BMC_SLAVE_ADDRESS = 0x20;
export const REMOTE_CONSOLE_SOFTWARE_ID = 0x81;

export interface LanRequest {
  rsAddr: number;
  netFn: number;
  rsLun: number;
  rqAddr: number;
  rqSeq: number; // 6 bits, echoed in the response
  rqLun: number;
  cmd: number;
  data: Uint8Array;
}

export interface LanResponse {
  rqAddr: number;
  netFn: number; // response netFn (odd)
  rqLun: number;
  rsAddr: number;
  rqSeq: number;
  rsLun: number;
  cmd: number;
  cc: number;
  data: Uint8Array;
}

/** Two's-complement checksum: the bytes plus the checksum sum to 0 mod 256. */
export function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (const b of bytes) sum = (sum + b) & 0xff;
  return (0x100 - sum) & 0xff;
}

/** Sum of bytes [from, to) of `bytes`, as checksum() takes it. */
function checksumOf(bytes: Uint8Array, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum = (sum + (bytes[i] ?? 0)) & 0xff;
  return (0x100 - sum) & 0xff;
}

/** a0 | netFnLun | chk1 | a1 | seqLun | cmd | [lead] | rest | chk2, in one allocation. */
function frame(
  a0: number,
  netFnLun: number,
  a1: number,
  seqLun: number,
  cmd: number,
  rest: Uint8Array,
  lead?: number,
): Uint8Array {
  const at = lead === undefined ? 6 : 7;
  const out = new Uint8Array(at + rest.length + 1);
  out[0] = a0;
  out[1] = netFnLun;
  out[2] = checksumOf(out, 0, 2);
  out[3] = a1;
  out[4] = seqLun;
  out[5] = cmd;
  if (lead !== undefined) out[6] = lead;
  out.set(rest, at);
  out[out.length - 1] = checksumOf(out, 3, out.length - 1);
  return out;
}

function unframe(bytes: Uint8Array): { a0: number; b1: number; a1: number; b4: number; cmd: number; rest: Uint8Array } {
  need(bytes, 7, 'IPMI LAN message');
  if (checksum(bytes.subarray(0, 2)) !== bytes[2])
    throw new CodecError('checksum', 'IPMI message header checksum mismatch');
  const end = bytes.length - 1;
  if (checksum(bytes.subarray(3, end)) !== bytes[end])
    throw new CodecError('checksum', 'IPMI message data checksum mismatch');
  return {
    a0: bytes[0] ?? 0,
    b1: bytes[1] ?? 0,
    a1: bytes[3] ?? 0,
    b4: bytes[4] ?? 0,
    cmd: bytes[5] ?? 0,
    rest: bytes.subarray(6, end),
  };
}

export function decodeLanRequest(bytes: Uint8Array): LanRequest {
  const f = unframe(bytes);
  const netFn = f.b1 >> 2;
  if (netFn % 2 !== 0) throw new CodecError('not-request', `netFn 0x${netFn.toString(16)} is a response`);
  return {
    rsAddr: f.a0,
    netFn,
    rsLun: f.b1 & 3,
    rqAddr: f.a1,
    rqSeq: f.b4 >> 2,
    rqLun: f.b4 & 3,
    cmd: f.cmd,
    data: f.rest,
  };
}

export function encodeLanRequest(r: LanRequest): Uint8Array {
  return frame(
    r.rsAddr,
    (r.netFn << 2) | (r.rsLun & 3),
    r.rqAddr,
    ((r.rqSeq & 0x3f) << 2) | (r.rqLun & 3),
    r.cmd,
    r.data,
  );
}

export function decodeLanResponse(bytes: Uint8Array): LanResponse {
  const f = unframe(bytes);
  need(f.rest, 1, 'completion code');
  return {
    rqAddr: f.a0,
    netFn: f.b1 >> 2,
    rqLun: f.b1 & 3,
    rsAddr: f.a1,
    rqSeq: f.b4 >> 2,
    rsLun: f.b4 & 3,
    cmd: f.cmd,
    cc: f.rest[0] ?? 0,
    data: f.rest.subarray(1),
  };
}

export function encodeLanResponse(r: LanResponse): Uint8Array {
  return frame(
    r.rqAddr,
    (r.netFn << 2) | (r.rqLun & 3),
    r.rsAddr,
    ((r.rqSeq & 0x3f) << 2) | (r.rsLun & 3),
    r.cmd,
    r.data,
    r.cc,
  );
}

/** The response to a request: addresses swapped, netFn + 1, rqSeq and LUNs echoed. */
export function responseFor(req: LanRequest, cc: number, data: Uint8Array): Uint8Array {
  return encodeLanResponse({
    rqAddr: req.rqAddr,
    netFn: req.netFn | 1,
    rqLun: req.rqLun,
    rsAddr: req.rsAddr,
    rqSeq: req.rqSeq,
    rsLun: req.rsLun,
    cmd: req.cmd,
    cc,
    data,
  });
}
