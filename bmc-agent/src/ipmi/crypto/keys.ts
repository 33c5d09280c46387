// Session keys (IPMI 2.0 §13.31–13.32): SIK = HMAC_Kg(Rm, Rc, ROLEm, ULENGTHm, UNAMEm); K1/K2 = HMAC_SIK(const 1/2).
import { concatBytes } from '../codec/errors.ts';
import { type HashName, hmac, type RakpExchange } from './auth.ts';

/** The constants are 20 bytes for every algorithm (IPMI 2.0 §13.32), as ipmitool and freeipmi use them. */
const CONSTANT_LENGTH = 20;

/** Kg is the BMC key; when none is set (ours never is) Kuid is used in its place. */
export function sessionIntegrityKey(hash: HashName, kg: Uint8Array, x: RakpExchange): Uint8Array {
  return hmac(
    hash,
    kg,
    concatBytes(x.consoleRandom, x.bmcRandom, Uint8Array.of(x.role, x.userName.length), x.userName),
  );
}

function additionalKey(hash: HashName, sik: Uint8Array, constant: number): Uint8Array {
  return hmac(hash, sik, new Uint8Array(CONSTANT_LENGTH).fill(constant));
}

/** K1: integrity key. */
export function k1(hash: HashName, sik: Uint8Array): Uint8Array {
  return additionalKey(hash, sik, 0x01);
}

/** K2: confidentiality key (AES-CBC-128 uses its first 16 bytes). */
export function k2(hash: HashName, sik: Uint8Array): Uint8Array {
  return additionalKey(hash, sik, 0x02);
}
