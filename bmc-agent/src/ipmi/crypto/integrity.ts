// Per-packet integrity (IPMI 2.0 §13.28.4): HMAC-SHA1-96 and HMAC-SHA256-128 keyed with K1.
import { timingSafeEqual } from 'node:crypto';
import { hmac } from './auth.ts';
import { IntegrityAlgorithm } from './suites.ts';

export function integrityCodeLength(algorithm: number): number {
  if (algorithm === IntegrityAlgorithm.None) return 0;
  if (algorithm === IntegrityAlgorithm.HmacSha1_96) return 12;
  if (algorithm === IntegrityAlgorithm.HmacSha256_128) return 16;
  throw new Error(`unsupported integrity algorithm ${algorithm}`);
}

export function integrityCode(algorithm: number, k1: Uint8Array, signed: Uint8Array): Uint8Array {
  if (algorithm === IntegrityAlgorithm.HmacSha1_96) return hmac('sha1', k1, signed).subarray(0, 12);
  if (algorithm === IntegrityAlgorithm.HmacSha256_128) return hmac('sha256', k1, signed).subarray(0, 16);
  throw new Error(`unsupported integrity algorithm ${algorithm}`);
}

/** Constant-time comparison of a received AuthCode. */
export function verifyIntegrity(algorithm: number, k1: Uint8Array, signed: Uint8Array, received: Uint8Array): boolean {
  const expected = integrityCode(algorithm, k1, signed);
  return received.length === expected.length && timingSafeEqual(expected, received);
}
