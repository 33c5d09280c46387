// Small pure helpers for IPMI byte layouts: little-endian integers, padded strings, addresses, checksums.
import { CompletionCode } from '../types.ts';
import { CompletionError } from './errors.ts';

export function u16le(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff];
}

export function u32le(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

export function readU16le(data: Uint8Array, offset: number): number {
  return (data[offset] ?? 0) | ((data[offset + 1] ?? 0) << 8);
}

export function readU32le(data: Uint8Array, offset: number): number {
  return (readU16le(data, offset) | (readU16le(data, offset + 2) << 16)) >>> 0;
}

/** Byte at `offset`, which the dispatcher's length check guarantees to exist. */
export function byteAt(data: Uint8Array, offset: number): number {
  const b = data[offset];
  if (b === undefined)
    throw new CompletionError(CompletionCode.RequestDataLengthInvalid, `missing request byte ${offset}`);
  return b;
}

/** A string as a fixed-size NUL-padded field (user names, passwords, community string). */
export function padded(text: string, size: number): number[] {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > size)
    throw new CompletionError(CompletionCode.InvalidDataField, `"${text}" exceeds ${size} bytes`);
  const out = new Array<number>(size).fill(0);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i]!;
  return out;
}

/** The text of a NUL-padded field; rejects bytes that are not UTF-8 so a stored name always round-trips. */
export function unpadded(field: Uint8Array): string {
  let end = field.indexOf(0);
  if (end < 0) end = field.length;
  // Anything after the first NUL must be padding, otherwise the field is not a string.
  for (let i = end; i < field.length; i++) {
    if (field[i] !== 0) throw new CompletionError(CompletionCode.InvalidDataField, 'string field has data after NUL');
  }
  const bytes = Buffer.from(field.subarray(0, end));
  const text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes)) throw new CompletionError(CompletionCode.InvalidDataField, 'not UTF-8');
  return text;
}

export function ipv4Bytes(address: string): number[] {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return [0, 0, 0, 0];
  return parts;
}

export function ipv4String(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 4)).join('.');
}

export function macBytes(mac: string): number[] {
  const parts = mac.split(':').map((p) => Number.parseInt(p, 16));
  if (parts.length !== 6 || parts.some((p) => Number.isNaN(p))) return [0, 0, 0, 0, 0, 0];
  return parts;
}

export function macString(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join(':');
}

/** Two's-complement zero checksum: the byte that makes the sum of `bytes` plus itself 0 mod 256. */
export function zeroChecksum(bytes: readonly number[]): number {
  const sum = bytes.reduce((a, b) => a + b, 0);
  return (0x100 - (sum & 0xff)) & 0xff;
}

export function toBcd(n: number): number {
  const v = Math.max(0, Math.min(99, Math.trunc(n)));
  return ((Math.trunc(v / 10) & 0x0f) << 4) | (v % 10);
}

export function hex(bytes: readonly number[] | Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

export function fromHex(text: string | undefined): Uint8Array | undefined {
  if (text === undefined) return undefined;
  return new Uint8Array(Buffer.from(text, 'hex'));
}

export function ok(bytes: readonly number[] | Uint8Array = []): { cc: number; data: Uint8Array } {
  return { cc: CompletionCode.Ok, data: Uint8Array.from(bytes) };
}

export function fail(cc: number): { cc: number; data: Uint8Array } {
  return { cc, data: new Uint8Array(0) };
}
