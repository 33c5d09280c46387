// TLS credentials: the operator's files when given, else a self-signed pair made once and kept in stateDir.
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';

export interface TlsCredentials {
  cert: string;
  key: string;
  source: 'files' | 'generated' | 'state';
}

export const CERT_FILE = 'redfish-tls.crt';
export const KEY_FILE = 'redfish-tls.key';

async function writePrivate(path: string, data: string): Promise<void> {
  // Temp file + rename: a crash never leaves half a key; 0600 from the first byte.
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, data, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

export async function loadTlsCredentials(
  cfg: { tlsCert?: string; tlsKey?: string; stateDir: string; bmcAddress: string },
  log: Logger,
): Promise<TlsCredentials> {
  if (cfg.tlsCert || cfg.tlsKey) {
    if (!cfg.tlsCert || !cfg.tlsKey) throw new Error('TLS_CERT and TLS_KEY must be set together');
    const [cert, key] = await Promise.all([readFile(cfg.tlsCert, 'utf8'), readFile(cfg.tlsKey, 'utf8')]);
    return { cert, key, source: 'files' };
  }
  const certPath = join(cfg.stateDir, CERT_FILE);
  const keyPath = join(cfg.stateDir, KEY_FILE);
  if (existsSync(certPath) && existsSync(keyPath)) {
    const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    return { cert, key, source: 'state' };
  }
  await mkdir(cfg.stateDir, { recursive: true, mode: 0o700 });
  const altNames: Array<{ type: 2; value: string } | { type: 7; ip: string }> = [
    { type: 2, value: 'localhost' },
    { type: 7, ip: '127.0.0.1' },
    { type: 7, ip: '::1' },
  ];
  if (isIP(cfg.bmcAddress)) altNames.push({ type: 7, ip: cfg.bmcAddress });
  else if (cfg.bmcAddress) altNames.push({ type: 2, value: cfg.bmcAddress });
  const now = new Date();
  // Loaded only when a certificate must be made: the library and its crypto stack cost ~9 MiB and ~90 ms at start.
  const { generate } = await import('selfsigned');
  // ECDSA P-256: generated in ~10 ms where RSA 2048 took 50-80 ms of the first start, and cheaper handshakes.
  const pems = await generate([{ name: 'commonName', value: cfg.bmcAddress || 'qemu-bmc' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: now,
    notAfterDate: new Date(now.getTime() + 10 * 365 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames },
    ],
  });
  await writePrivate(keyPath, pems.private);
  await writePrivate(certPath, pems.cert);
  log.info({ certPath, fingerprint: pems.fingerprint }, 'generated self-signed Redfish TLS certificate');
  return { cert: pems.cert, key: pems.private, source: 'generated' };
}
