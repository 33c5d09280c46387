// Secret material the operator generates: the agent's TLS key pair (a self-signed certificate that is its own
// CA, so the operator can pin it with `ca`) and a random BMC password.
import { generate } from 'selfsigned';
import { randomPassword } from '../reconcile/secret.ts';

export async function generateAgentTls(serviceName: string, namespace: string): Promise<{ cert: string; key: string }> {
  const now = new Date();
  const pems = await generate([{ name: 'commonName', value: `${serviceName}.${namespace}.svc` }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 60_000),
    notAfterDate: new Date(now.getTime() + 10 * 365 * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: `${serviceName}.${namespace}.svc` },
          { type: 2, value: `${serviceName}.${namespace}.svc.cluster.local` },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

export { randomPassword };
