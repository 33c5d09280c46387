// Per-packet integrity (IPMI 2.0 §13.28.4): HMAC-SHA1-96 and HMAC-SHA256-128 keyed with K1.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { secretKey } from './key-objects.ts';
import { IntegrityAlgorithm } from './suites.ts';

export function integrityCodeLength(algorithm: number): number {
  if (algorithm === IntegrityAlgorithm.None) return 0;
  if (algorithm === IntegrityAlgorithm.HmacSha1_96) return 12;
  if (algorithm === IntegrityAlgorithm.HmacSha256_128) return 16;
  throw new Error(`unsupported integrity algorithm ${algorithm}`);
}

/** The full HMAC (not truncated) as node:crypto returns it; K1's KeyObject is made once per session. */
function fullCode(algorithm: number, k1: Uint8Array, signed: Uint8Array): Buffer {
  if (algorithm === IntegrityAlgorithm.HmacSha1_96) return createHmac('sha1', secretKey(k1)).update(signed).digest();
  if (algorithm === IntegrityAlgorithm.HmacSha256_128)
    return createHmac('sha256', secretKey(k1)).update(signed).digest();
  throw new Error(`unsupported integrity algorithm ${algorithm}`);
}

export function integrityCode(algorithm: number, k1: Uint8Array, signed: Uint8Array): Uint8Array {
  const code = fullCode(algorithm, k1, signed);
  return new Uint8Array(code.buffer, code.byteOffset, integrityCodeLength(algorithm));
}

/** Writes the AuthCode of `signed` into `out` at `offset` (integrityCodeLength(algorithm) bytes). */
export function writeIntegrityCode(
  algorithm: number,
  k1: Uint8Array,
  signed: Uint8Array,
  out: Uint8Array,
  offset: number,
): void {
  const code = fullCode(algorithm, k1, signed);
  out.set(code.subarray(0, integrityCodeLength(algorithm)), offset);
}

/** Constant-time comparison of a received AuthCode. */
export function verifyIntegrity(algorithm: number, k1: Uint8Array, signed: Uint8Array, received: Uint8Array): boolean {
  const length = integrityCodeLength(algorithm);
  if (received.length !== length) return false;
  return timingSafeEqual(fullCode(algorithm, k1, signed).subarray(0, length), received);
}
