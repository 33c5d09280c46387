// Password comparison whose time does not depend on where, or whether, the strings differ.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

// Per-process key: both sides are reduced to equal-length MACs, so timingSafeEqual always sees 32-byte buffers
// and the length of the stored password is not revealed by an early exit.
const key = randomBytes(32);

function digest(value: string): Buffer {
  return createHmac('sha256', key).update(value, 'utf8').digest();
}

export function passwordsEqual(stored: string, given: string): boolean {
  return timingSafeEqual(digest(stored), digest(given));
}
