// IPMI 1.5 MD5 AuthCode (IPMI 2.0 §22.17.1): MD5(password ‖ session ID ‖ IPMI message ‖ session sequence ‖ password),
// with the password as 16 zero-padded bytes and the ID and sequence little-endian as in the session header.
import { createHash, timingSafeEqual } from 'node:crypto';
import { putU32le } from '../codec/errors.ts';

/** The 16-byte IPMI 1.5 password key; undefined when the password is longer than v1.5 allows. */
export function v15Key(password: string): Uint8Array | undefined {
  const bytes = new TextEncoder().encode(password);
  if (bytes.length > 16) return undefined;
  const key = new Uint8Array(16);
  key.set(bytes);
  return key;
}

export function md5AuthCode(key: Uint8Array, sessionId: number, sequence: number, message: Uint8Array): Uint8Array {
  const numbers = new Uint8Array(8);
  putU32le(numbers, 0, sessionId);
  putU32le(numbers, 4, sequence);
  return new Uint8Array(
    createHash('md5')
      .update(key)
      .update(numbers.subarray(0, 4))
      .update(message)
      .update(numbers.subarray(4))
      .update(key)
      .digest(),
  );
}

export function verifyMd5AuthCode(
  key: Uint8Array,
  sessionId: number,
  sequence: number,
  message: Uint8Array,
  received: Uint8Array | undefined,
): boolean {
  const expected = md5AuthCode(key, sessionId, sequence, message);
  return received !== undefined && received.length === 16 && timingSafeEqual(expected, received);
}
