// Password comparison whose time does not depend on where, or whether, the strings differ.
import { createHmac, createSecretKey, randomBytes, timingSafeEqual } from 'node:crypto';

// Per-process key: both sides are reduced to equal-length MACs, so timingSafeEqual always sees 32-byte buffers
// and the length of the stored password is not revealed by an early exit.
// A KeyObject, not raw bytes: Node re-imports raw keys on every HMAC, several times slower.
const key = createSecretKey(randomBytes(32));

function digest(value: string): Buffer {
  return createHmac('sha256', key).update(value, 'utf8').digest();
}

export function passwordsEqual(stored: string, given: string): boolean {
  return timingSafeEqual(digest(stored), digest(given));
}
