// Payload confidentiality AES-CBC-128 (IPMI 2.0 §13.29): IV(16) | AES-CBC(K2[0..16], data | 01 02 .. N | N).
//
// Per packet, node:crypto's createCipheriv/createDecipheriv (a new OpenSSL context, key schedule, IV) and
// randomBytes(16) cost more than the cipher itself. So each K2 gets one AES-128-ECB encryptor and one decryptor for
// the life of its session (ECB keeps no state between blocks, so the objects can be reused for every packet) and the
// CBC chaining is done here: C[i] = E(P[i] xor C[i-1]), P[i] = D(C[i]) xor C[i-1], C[-1] = IV. IVs come from a
// pool of CSPRNG bytes refilled 4 KiB at a time; each IV is used once.
import { type Cipheriv, createCipheriv, createDecipheriv, type Decipheriv, randomFillSync } from 'node:crypto';
import { CodecError } from '../codec/errors.ts';
import { aes128Key } from './key-objects.ts';

const BLOCK = 16;

interface EcbPair {
  encrypt: Cipheriv;
  decrypt: Decipheriv;
}

const ecbCache = new WeakMap<Uint8Array, EcbPair>();

function ecb(k2: Uint8Array): EcbPair {
  let pair = ecbCache.get(k2);
  if (!pair) {
    const key = aes128Key(k2);
    pair = {
      encrypt: createCipheriv('aes-128-ecb', key, null).setAutoPadding(false),
      decrypt: createDecipheriv('aes-128-ecb', key, null).setAutoPadding(false),
    };
    ecbCache.set(k2, pair);
  }
  return pair;
}

const IV_POOL = 4096;
const ivPool = Buffer.alloc(IV_POOL);
let ivAt = IV_POOL;

/** Writes a fresh random IV into `out` at `offset`. */
function freshIv(out: Uint8Array, offset: number): void {
  if (ivAt + BLOCK > IV_POOL) {
    randomFillSync(ivPool);
    ivAt = 0;
  }
  out.set(ivPool.subarray(ivAt, ivAt + BLOCK), offset);
  // Spent IV bytes are wiped so no later read of the pool can return them again.
  ivPool.fill(0, ivAt, ivAt + BLOCK);
  ivAt += BLOCK;
}

/** Length of the encrypted payload (IV and whole blocks) for `plaintextLength` bytes. */
export function encryptedLength(plaintextLength: number): number {
  return BLOCK + (Math.floor(plaintextLength / BLOCK) + 1) * BLOCK;
}

export function encryptAesCbc128(k2: Uint8Array, plaintext: Uint8Array, iv?: Uint8Array): Uint8Array {
  const out = new Uint8Array(encryptedLength(plaintext.length));
  encryptAesCbc128Into(k2, plaintext, out, 0, iv);
  return out;
}

/**
 * Encrypts into `out` at `offset` (IV, then the blocks): encryptedLength(plaintext.length) bytes. A random IV unless
 * one is given (tests).
 */
export function encryptAesCbc128Into(
  k2: Uint8Array,
  plaintext: Uint8Array,
  out: Uint8Array,
  offset: number,
  iv?: Uint8Array,
): void {
  const total = encryptedLength(plaintext.length) - BLOCK;
  const padLength = total - plaintext.length - 1;
  if (iv) {
    if (iv.length !== BLOCK) throw new RangeError('the AES-CBC IV is 16 bytes');
    out.set(iv, offset);
  } else freshIv(out, offset);
  const cipher = ecb(k2).encrypt;
  const block = Buffer.allocUnsafe(BLOCK);
  let prev = offset; // the previous ciphertext block (the IV first), in `out`
  let at = offset + BLOCK;
  for (let b = 0; b < total; b += BLOCK) {
    for (let i = 0; i < BLOCK; i++) {
      const p = b + i;
      // Plaintext, then the pad 1, 2, .. N, then N.
      const plain = p < plaintext.length ? (plaintext[p] ?? 0) : p < total - 1 ? p - plaintext.length + 1 : padLength;
      block[i] = plain ^ (out[prev + i] ?? 0);
    }
    const enc = cipher.update(block);
    if (enc.length !== BLOCK) throw new Error('AES-ECB returned a partial block');
    out.set(enc, at);
    prev = at;
    at += BLOCK;
  }
}

export function decryptAesCbc128(k2: Uint8Array, payload: Uint8Array): Uint8Array {
  if (payload.length < 2 * BLOCK || payload.length % BLOCK !== 0) {
    throw new CodecError('cipher-length', `encrypted payload length ${payload.length} is not IV plus whole blocks`);
  }
  // ECB-decrypt every block in one call, then undo the chaining with the previous ciphertext block (the IV first).
  const plain = ecb(k2).decrypt.update(payload.subarray(BLOCK));
  if (plain.length !== payload.length - BLOCK) throw new Error('AES-ECB returned a partial block');
  for (let i = 0; i < plain.length; i++) plain[i] = (plain[i] ?? 0) ^ (payload[i] ?? 0);
  const padLength = plain[plain.length - 1] ?? 0;
  if (padLength >= BLOCK) throw new CodecError('cipher-pad', `confidentiality pad length ${padLength} is too large`);
  const dataEnd = plain.length - 1 - padLength;
  for (let i = 0; i < padLength; i++) {
    if (plain[dataEnd + i] !== i + 1)
      throw new CodecError('cipher-pad', 'confidentiality pad bytes are not 1, 2, 3, ...');
  }
  return new Uint8Array(plain.buffer, plain.byteOffset, dataEnd);
}
