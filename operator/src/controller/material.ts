// Secret material the operator generates: the agent's TLS key pair (a self-signed certificate that is its own
// CA, so the operator can pin it with `ca`) and a random BMC password.
// The certificate is written here as DER with node:crypto's key generation and signing: the `selfsigned` package
// (@peculiar/x509, pkijs, asn1js) cost ~24 MiB of RSS once loaded and ~27 MiB more of heap growth while it made
// 1,000 certificates (bench, docs/benchmarks.md), for a structure this small.
import { createHash, generateKeyPair, type KeyObject, randomBytes, sign } from 'node:crypto';
import { promisify } from 'node:util';
import { randomPassword } from '../reconcile/secret.ts';

const generateKeyPairAsync = promisify(generateKeyPair);

// --- DER (X.690) ---------------------------------------------------------------------------------------------

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

const seq = (...c: Buffer[]) => tlv(0x30, ...c);
const set = (...c: Buffer[]) => tlv(0x31, ...c);
const octets = (b: Buffer) => tlv(0x04, b);
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
const TRUE = Buffer.from([0x01, 0x01, 0xff]);

function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const out = [40 * a + b];
  for (const arc of rest) {
    const groups: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) groups.unshift(0x80 | (v & 0x7f));
    out.push(...groups);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime until 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5). */
function time(d: Date): Buffer {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(digits.slice(2))) : tlv(0x18, Buffer.from(digits));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), TRUE, octets(value)) : seq(oid(id), octets(value));
}

const ECDSA_WITH_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

/** A self-signed ECDSA P-256 / SHA-256 certificate: CA, serverAuth, the given DNS names. */
function selfSignedCertificate(
  publicKey: KeyObject,
  privateKey: KeyObject,
  commonName: string,
  dnsNames: string[],
  notBefore: Date,
  notAfter: Date,
): string {
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40; // positive, minimal encoding
  const name = seq(set(seq(oid('2.5.4.3'), utf8(commonName))));
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  // subjectKeyIdentifier: SHA-1 of the public key bits (RFC 5280 4.2.1.2, method 1); the key is the last 65 bytes.
  const keyId = createHash('sha1')
    .update(spki.subarray(spki.length - 65))
    .digest();
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))), // v3
    tlv(0x02, serial),
    ECDSA_WITH_SHA256,
    name,
    seq(time(notBefore), time(notAfter)),
    name,
    spki,
    tlv(
      0xa3,
      seq(
        extension('2.5.29.19', true, seq(TRUE)), // basicConstraints: cA
        extension('2.5.29.15', true, Buffer.from([0x03, 0x02, 0x02, 0x84])), // keyUsage: digitalSignature, keyCertSign
        extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))), // extKeyUsage: serverAuth
        extension('2.5.29.17', false, seq(...dnsNames.map((d) => tlv(0x82, Buffer.from(d, 'ascii'))))), // SAN
        extension('2.5.29.14', false, octets(keyId)), // subjectKeyIdentifier
      ),
    ),
  );
  const signature = sign('sha256', tbs, privateKey); // DER ECDSA-Sig-Value
  const der = seq(tbs, ECDSA_WITH_SHA256, tlv(0x03, Buffer.from([0]), signature));
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`;
}

export async function generateAgentTls(serviceName: string, namespace: string): Promise<{ cert: string; key: string }> {
  const { publicKey, privateKey } = await generateKeyPairAsync('ec', { namedCurve: 'P-256' });
  const now = Date.now();
  const host = `${serviceName}.${namespace}.svc`;
  const cert = selfSignedCertificate(
    publicKey,
    privateKey,
    host,
    [host, `${host}.cluster.local`],
    new Date(now - 60_000),
    new Date(now + 10 * 365 * 86_400_000),
  );
  return { cert, key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

export { randomPassword };
