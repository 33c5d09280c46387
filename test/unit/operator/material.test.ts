// The agent certificate the operator writes itself (operator/src/controller/material.ts): a DER structure built
// by hand must parse, verify and say what the agent and the pinning link rely on.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateAgentTls } from '../../../operator/src/controller/material.ts';

describe('generateAgentTls', () => {
  it('makes a self-signed P-256 CA certificate for the Service names, valid for ten years', async () => {
    const before = Date.now();
    const { cert, key } = await generateAgentTls('b1-bmc', 'lab');
    const x = new X509Certificate(cert);
    expect(x.subject).toBe('CN=b1-bmc.lab.svc');
    expect(x.issuer).toBe(x.subject);
    expect(x.subjectAltName).toBe('DNS:b1-bmc.lab.svc, DNS:b1-bmc.lab.svc.cluster.local');
    expect(x.ca).toBe(true);
    expect(x.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(x.checkIssued(x)).toBe(true);
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.publicKey.asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
    expect(x.checkPrivateKey(createPrivateKey(key))).toBe(true);
    expect(key).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const from = Date.parse(x.validFrom);
    const to = Date.parse(x.validTo);
    expect(from).toBeLessThanOrEqual(before);
    expect(to - from).toBeGreaterThan(9.9 * 365 * 86_400_000);
  });

  it('never repeats a key or a serial number', async () => {
    const a = new X509Certificate((await generateAgentTls('n', 'lab')).cert);
    const b = new X509Certificate((await generateAgentTls('n', 'lab')).cert);
    expect(a.serialNumber).not.toBe(b.serialNumber);
    expect(a.publicKey.export({ format: 'jwk' })).not.toEqual(b.publicKey.export({ format: 'jwk' }));
  });
});
