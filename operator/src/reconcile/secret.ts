// The operator-owned Secret: the agent's TLS key pair (always) and, without credentialsSecretRef, a generated
// BMC user and random password. Existing material is kept: a Secret is generated once, never rotated by accident.
import { randomBytes } from 'node:crypto';
import { childNames, ownerLabels, ownerReference } from '../api/names.ts';
import type { VirtualBMC } from '../api/types.ts';
import type { Secret } from '../kube/objects.ts';

export const DEFAULT_USERNAME = 'admin';
export const TLS_CERT_KEY = 'tls.crt';
export const TLS_KEY_KEY = 'tls.key';

export interface SecretMaterial {
  username?: string;
  password?: string;
  tlsCert: string;
  tlsKey: string;
}

/** 20 characters (the IPMI 2.0 password limit) from a 64-symbol alphabet: 120 bits of entropy. */
export function randomPassword(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_.~+=';
  const bytes = randomBytes(20);
  let out = '';
  for (const byte of bytes) out += alphabet[byte % alphabet.length];
  return out;
}

const decode = (b64: string | undefined): string | undefined =>
  b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8');

/** Material already present in the Secret (decoded); missing pieces come back undefined. */
export function existingMaterial(secret: Secret | undefined): Partial<SecretMaterial> {
  const data = secret?.data ?? {};
  return {
    username: decode(data['username']),
    password: decode(data['password']),
    tlsCert: decode(data[TLS_CERT_KEY]),
    tlsKey: decode(data[TLS_KEY_KEY]),
  };
}

/** Which pieces the caller must generate before building the Secret. */
export function missingMaterial(
  vbmc: VirtualBMC,
  existing: Partial<SecretMaterial>,
): { password: boolean; tls: boolean } {
  const generatesCredentials = vbmc.spec.credentialsSecretRef === undefined;
  return {
    password: generatesCredentials && (!existing.password || !existing.username),
    tls: !existing.tlsCert || !existing.tlsKey,
  };
}

export function desiredSecret(vbmc: VirtualBMC, material: SecretMaterial): Secret {
  const data: Record<string, string> = {
    [TLS_CERT_KEY]: Buffer.from(material.tlsCert).toString('base64'),
    [TLS_KEY_KEY]: Buffer.from(material.tlsKey).toString('base64'),
  };
  if (vbmc.spec.credentialsSecretRef === undefined) {
    if (!material.username || !material.password) throw new Error('generated credentials are missing');
    data['username'] = Buffer.from(material.username).toString('base64');
    data['password'] = Buffer.from(material.password).toString('base64');
  }
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: childNames(vbmc.metadata.name).secret,
      namespace: vbmc.metadata.namespace,
      labels: ownerLabels(vbmc),
      ownerReferences: [ownerReference(vbmc)],
    },
    type: 'Opaque',
    data,
  };
}

/** Where the agent reads its user and password from. */
export function credentialsSource(vbmc: VirtualBMC): { secretName: string; usernameKey: string; passwordKey: string } {
  const ref = vbmc.spec.credentialsSecretRef;
  if (ref)
    return {
      secretName: ref.name,
      usernameKey: ref.usernameKey ?? 'username',
      passwordKey: ref.passwordKey ?? 'password',
    };
  return { secretName: childNames(vbmc.metadata.name).secret, usernameKey: 'username', passwordKey: 'password' };
}
