// Node's crypto is several times slower per HMAC or cipher when handed raw key bytes than a KeyObject
// (the key is re-imported on every call). Session keys (K1, K2) live as long as their session and are passed as
// the same Uint8Array every time, so a KeyObject per array, held weakly, is made once per session.
import { createSecretKey, type KeyObject } from 'node:crypto';

const cache = new WeakMap<Uint8Array, KeyObject>();

export function secretKey(bytes: Uint8Array): KeyObject {
  let key = cache.get(bytes);
  if (!key) {
    key = createSecretKey(bytes);
    cache.set(bytes, key);
  }
  return key;
}

/** The AES-128 key of K2 (its first 16 bytes), cached per K2 array. */
const aesCache = new WeakMap<Uint8Array, KeyObject>();
export function aes128Key(k2: Uint8Array): KeyObject {
  let key = aesCache.get(k2);
  if (!key) {
    key = createSecretKey(k2.subarray(0, 16));
    aesCache.set(k2, key);
  }
  return key;
}
