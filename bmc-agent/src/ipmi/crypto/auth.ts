// RAKP key-exchange authentication codes (IPMI 2.0 §13.31–13.32), with the user key Kuid = password padded to 20 bytes.
import { createHmac } from 'node:crypto';
import { concatBytes, putU32le } from '../codec/errors.ts';
import { secretKey } from './key-objects.ts';
import { AuthAlgorithm } from './suites.ts';

export type HashName = 'sha1' | 'sha256';

/** Hash behind a RAKP authentication algorithm; undefined for RAKP-none (cipher suite 0). */
export function authHash(auth: number): HashName | undefined {
  if (auth === AuthAlgorithm.HmacSha1) return 'sha1';
  if (auth === AuthAlgorithm.HmacSha256) return 'sha256';
  if (auth === AuthAlgorithm.None) return undefined;
  throw new Error(`unsupported RAKP authentication algorithm ${auth}`);
}

export function hmac(hash: HashName, key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac(hash, secretKey(key)).update(data).digest());
}

/** Kuid: the user's password as up to 20 bytes, zero-padded (IPMI 2.0 passwords are 20 bytes). */
export function userKey(password: string): Uint8Array {
  const bytes = new TextEncoder().encode(password);
  if (bytes.length > 20) throw new Error('IPMI passwords are at most 20 bytes');
  const key = new Uint8Array(20);
  key.set(bytes);
  return key;
}

function u32(value: number): Uint8Array {
  const b = new Uint8Array(4);
  putU32le(b, 0, value);
  return b;
}

export interface RakpExchange {
  consoleSessionId: number; // SIDm
  bmcSessionId: number; // SIDc
  consoleRandom: Uint8Array; // Rm
  bmcRandom: Uint8Array; // Rc
  bmcGuid: Uint8Array; // GUIDc
  role: number; // ROLEm, the whole RAKP 1 byte including the lookup bit
  userName: Uint8Array; // UNAMEm
}

/** RAKP 2 Key Exchange Authentication Code: HMAC_Kuid(SIDm, SIDc, Rm, Rc, GUIDc, ROLEm, ULENGTHm, UNAMEm). */
export function rakp2AuthCode(hash: HashName, kuid: Uint8Array, x: RakpExchange): Uint8Array {
  const data = concatBytes(
    u32(x.consoleSessionId),
    u32(x.bmcSessionId),
    x.consoleRandom,
    x.bmcRandom,
    x.bmcGuid,
    Uint8Array.of(x.role, x.userName.length),
    x.userName,
  );
  return hmac(hash, kuid, data);
}

/** RAKP 3 Key Exchange Authentication Code: HMAC_Kuid(Rc, SIDm, ROLEm, ULENGTHm, UNAMEm). */
export function rakp3AuthCode(hash: HashName, kuid: Uint8Array, x: RakpExchange): Uint8Array {
  const data = concatBytes(x.bmcRandom, u32(x.consoleSessionId), Uint8Array.of(x.role, x.userName.length), x.userName);
  return hmac(hash, kuid, data);
}

/** Length of the RAKP 4 Integrity Check Value: HMAC-SHA1-96 → 12, HMAC-SHA256-128 → 16. */
export function rakp4IcvLength(hash: HashName): number {
  return hash === 'sha1' ? 12 : 16;
}

/** RAKP 4 Integrity Check Value: HMAC_SIK(Rm, SIDc, GUIDc), truncated. */
export function rakp4Icv(hash: HashName, sik: Uint8Array, x: RakpExchange): Uint8Array {
  return hmac(hash, sik, concatBytes(x.consoleRandom, u32(x.bmcSessionId), x.bmcGuid)).subarray(
    0,
    rakp4IcvLength(hash),
  );
}
