// Payload confidentiality AES-CBC-128 (IPMI 2.0 §13.29): IV(16) | AES-CBC(K2[0..16], data | 01 02 .. N | N).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { CodecError, concatBytes } from '../codec/errors.ts';
import { aes128Key } from './key-objects.ts';

const BLOCK = 16;

export function encryptAesCbc128(
  k2: Uint8Array,
  plaintext: Uint8Array,
  iv: Uint8Array = randomBytes(BLOCK),
): Uint8Array {
  const padLength = (BLOCK - ((plaintext.length + 1) % BLOCK)) % BLOCK;
  const pad = new Uint8Array(padLength + 1);
  for (let i = 0; i < padLength; i++) pad[i] = i + 1;
  pad[padLength] = padLength;
  const cipher = createCipheriv('aes-128-cbc', aes128Key(k2), iv).setAutoPadding(false);
  const body = concatBytes(plaintext, pad);
  return concatBytes(iv, new Uint8Array(cipher.update(body)), new Uint8Array(cipher.final()));
}

export function decryptAesCbc128(k2: Uint8Array, payload: Uint8Array): Uint8Array {
  if (payload.length < 2 * BLOCK || payload.length % BLOCK !== 0) {
    throw new CodecError('cipher-length', `encrypted payload length ${payload.length} is not IV plus whole blocks`);
  }
  const decipher = createDecipheriv('aes-128-cbc', aes128Key(k2), payload.subarray(0, BLOCK)).setAutoPadding(false);
  const plain = concatBytes(new Uint8Array(decipher.update(payload.subarray(BLOCK))), new Uint8Array(decipher.final()));
  const padLength = plain[plain.length - 1] ?? 0;
  if (padLength >= BLOCK) throw new CodecError('cipher-pad', `confidentiality pad length ${padLength} is too large`);
  const dataEnd = plain.length - 1 - padLength;
  for (let i = 0; i < padLength; i++) {
    if (plain[dataEnd + i] !== i + 1)
      throw new CodecError('cipher-pad', 'confidentiality pad bytes are not 1, 2, 3, ...');
  }
  return plain.subarray(0, dataEnd);
}
