// Codec for the byte stream between QEMU's `ipmi-bmc-extern` device and an external BMC
// (OpenIPMI's "VM" serial protocol). Two kinds of frames share one stream:
//   message: [msgId, netFn<<2|lun, cmd, data..., checksum] escaped, then 0xA0
//   command: [op, args...] escaped, then 0xA1 (hardware operations and capabilities)
// Special bytes inside a frame are sent as 0xAA followed by the byte with bit 4 set.

export const VM_MSG_END = 0xa0;
export const VM_CMD_END = 0xa1;
export const VM_ESCAPE = 0xaa;

/** Commands both ends may send (the op byte of a command frame). */
export const VmCommand = {
  NoAttention: 0x00,
  Attention: 0x01,
  AttentionIrq: 0x02,
  PowerOff: 0x03,
  Reset: 0x04,
  EnableIrq: 0x05,
  DisableIrq: 0x06,
  SendNmi: 0x07,
  Capabilities: 0x08,
  ForceOff: 0x09,
  GracefulShutdown: 0x0a,
  Version: 0xff,
} as const;

export const VM_PROTOCOL_VERSION = 1;

/** Capability bits QEMU announces after it connects. */
export const VmCapability = { Power: 0x01, Reset: 0x02, Irq: 0x04, Nmi: 0x08, Attention: 0x10 } as const;

/** Largest frame we accept before the terminator (QEMU's own limit is 300 + 2). */
export const VM_MAX_FRAME = 512;

export type VmFrame =
  | { kind: 'message'; bytes: Uint8Array }
  | { kind: 'command'; bytes: Uint8Array }
  | { kind: 'error'; reason: 'too-long' | 'bad-escape' };

/** Sum of bytes modulo 256, as the IPMB checksum uses. */
export function byteSum(bytes: Uint8Array, start = 0): number {
  let sum = start;
  for (const b of bytes) sum = (sum + b) & 0xff;
  return sum;
}

/** Two's complement checksum: the byte that makes the sum of the covered bytes zero. */
export function checksum(bytes: Uint8Array): number {
  return -byteSum(bytes) & 0xff;
}

function escapeInto(out: number[], bytes: Iterable<number>): void {
  for (const b of bytes) {
    if (b === VM_MSG_END || b === VM_CMD_END || b === VM_ESCAPE) out.push(VM_ESCAPE, b | 0x10);
    else out.push(b);
  }
}

/** Frames a message body (msgId + IPMI bytes) with its checksum and terminator. */
export function encodeMessageFrame(body: Uint8Array): Uint8Array {
  const out: number[] = [];
  escapeInto(out, body);
  escapeInto(out, [checksum(body)]);
  out.push(VM_MSG_END);
  return Uint8Array.from(out);
}

export function encodeCommandFrame(op: number, ...args: number[]): Uint8Array {
  const out: number[] = [];
  escapeInto(out, [op, ...args]);
  out.push(VM_CMD_END);
  return Uint8Array.from(out);
}

/**
 * Incremental decoder: feed it whatever arrived on the socket, get back the complete frames.
 * Errors are reported as frames so the caller can count them; the decoder resynchronises at the next terminator.
 */
export class VmFrameDecoder {
  private buf: number[] = [];
  private escaping = false;
  private overflow = false;

  push(chunk: Uint8Array): VmFrame[] {
    const frames: VmFrame[] = [];
    for (const ch of chunk) {
      if (ch === VM_MSG_END || ch === VM_CMD_END) {
        frames.push(this.finish(ch === VM_MSG_END ? 'message' : 'command'));
        continue;
      }
      if (ch === VM_ESCAPE) {
        this.escaping = true;
        continue;
      }
      const value = this.escaping ? ch & ~0x10 : ch;
      this.escaping = false;
      if (this.buf.length >= VM_MAX_FRAME) this.overflow = true;
      else this.buf.push(value);
    }
    return frames;
  }

  private finish(kind: 'message' | 'command'): VmFrame {
    const frame: VmFrame = this.overflow
      ? { kind: 'error', reason: 'too-long' }
      : this.escaping
        ? { kind: 'error', reason: 'bad-escape' }
        : { kind, bytes: Uint8Array.from(this.buf) };
    this.buf = [];
    this.escaping = false;
    this.overflow = false;
    return frame;
  }
}

export interface VmRequest {
  msgId: number;
  netFn: number;
  lun: number;
  cmd: number;
  data: Uint8Array;
}

/** Parses a message frame from QEMU; null when it is too short or its checksum is wrong. */
export function parseRequest(bytes: Uint8Array): VmRequest | null {
  if (bytes.length < 4) return null; // msgId, netFn/lun, cmd, checksum
  if (byteSum(bytes) !== 0) return null;
  const netFnLun = bytes[1]!;
  return {
    msgId: bytes[0]!,
    netFn: netFnLun >> 2,
    lun: netFnLun & 0x03,
    cmd: bytes[2]!,
    data: bytes.slice(3, bytes.length - 1),
  };
}

/** Builds the response frame for a request: response netFn = request netFn + 1, then completion code and data. */
export function encodeResponse(
  req: Pick<VmRequest, 'msgId' | 'netFn' | 'lun' | 'cmd'>,
  cc: number,
  data: Uint8Array,
): Uint8Array {
  const body = new Uint8Array(4 + data.length);
  body[0] = req.msgId;
  body[1] = (((req.netFn | 1) << 2) | req.lun) & 0xff;
  body[2] = req.cmd;
  body[3] = cc;
  body.set(data, 4);
  return encodeMessageFrame(body);
}
