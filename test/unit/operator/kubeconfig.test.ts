// The operator's own kubeconfig loader (operator/src/kube/config.ts): kubeconfig files (YAML or JSON, merged as
// kubectl merges them, paths relative to the file), the pod's service account, and the hand-over to client-node
// for what only client-node does.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  inClusterConnection,
  loadDefaultConnection,
  loadKubeConfigFiles,
  UnsupportedKubeConfig,
} from '../../../operator/src/kube/config.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'kubeconfig-test-'));
  dirs.push(d);
  return d;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('kubeconfig files', () => {
  it('reads the current context of a YAML kubeconfig: server, CA and client certificate data', async () => {
    const d = tempDir();
    const file = join(d, 'config');
    writeFileSync(
      file,
      `apiVersion: v1
kind: Config
clusters:
- name: other
  cluster: {server: https://other.invalid:1}
- name: test
  cluster:
    server: https://127.0.0.1:6443
    certificate-authority-data: ${b64('CA PEM')}
    tls-server-name: kubernetes
users:
- name: admin
  user:
    client-certificate-data: ${b64('CERT PEM')}
    client-key-data: ${b64('KEY PEM')}
contexts:
- name: test
  context: {cluster: test, user: admin, namespace: default}
current-context: test
`,
    );
    const conn = await loadKubeConfigFiles([file]);
    expect(conn.server.href).toBe('https://127.0.0.1:6443/');
    expect(conn.tls.ca?.toString()).toBe('CA PEM');
    expect(conn.tls.cert?.toString()).toBe('CERT PEM');
    expect(conn.tls.key?.toString()).toBe('KEY PEM');
    expect(conn.tls.servername).toBe('kubernetes');
    expect(conn.tls.rejectUnauthorized).toBe(true);
    expect(conn.headers()).toEqual({});
  });

  it('resolves file paths against the kubeconfig directory and reads a token file; JSON is accepted', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'ca.crt'), 'CA FROM FILE');
    writeFileSync(join(d, 'token'), 'tok-1\n');
    const file = join(d, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({
        clusters: [{ name: 'c', cluster: { server: 'https://api.example:443', 'certificate-authority': 'ca.crt' } }],
        users: [{ name: 'u', user: { tokenFile: 'token' } }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
      }),
    );
    const conn = await loadKubeConfigFiles([file]);
    expect(conn.tls.ca?.toString()).toBe('CA FROM FILE');
    expect(conn.headers()).toEqual({ authorization: 'Bearer tok-1' });
  });

  it('merges several files as kubectl does: the first definition and current-context win', async () => {
    const d = tempDir();
    const a = join(d, 'a');
    const b = join(d, 'b');
    writeFileSync(
      a,
      `users:
- name: u
  user: {token: from-a}
`,
    );
    writeFileSync(
      b,
      `clusters:
- name: c
  cluster: {server: 'http://127.0.0.1:8001', insecure-skip-tls-verify: true}
users:
- name: u
  user: {token: from-b}
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
`,
    );
    const conn = await loadDefaultConnection({ KUBECONFIG: `${a}:${b}` });
    expect(conn.server.href).toBe('http://127.0.0.1:8001/');
    expect(conn.tls.rejectUnauthorized).toBe(false);
    expect(conn.headers()).toEqual({ authorization: 'Bearer from-a' });
  });

  it('basic auth becomes an Authorization header', async () => {
    const d = tempDir();
    const file = join(d, 'config');
    writeFileSync(
      file,
      `clusters: [{name: c, cluster: {server: 'https://h:1'}}]
users: [{name: u, user: {username: admin, password: 's3cret'}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`,
    );
    const conn = await loadKubeConfigFiles([file]);
    expect(conn.headers()).toEqual({ authorization: `Basic ${b64('admin:s3cret')}` });
  });

  it.each([
    ['an exec credential plugin', { exec: { command: 'aws', apiVersion: 'client.authentication.k8s.io/v1' } }, {}],
    ['an auth-provider', { 'auth-provider': { name: 'oidc' } }, {}],
    ['proxy-url', {}, { 'proxy-url': 'socks5://127.0.0.1:1080' }],
  ])('hands %s over to client-node (UnsupportedKubeConfig)', async (what, user, cluster) => {
    const d = tempDir();
    const file = join(d, 'config');
    writeFileSync(
      file,
      JSON.stringify({
        clusters: [{ name: 'c', cluster: { server: 'https://h:1', ...cluster } }],
        users: [{ name: 'u', user }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
      }),
    );
    const err = await loadKubeConfigFiles([file]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedKubeConfig);
    expect((err as Error).message).toBe(`kubeconfig uses ${what}`);
  });

  it('names what is missing', async () => {
    const d = tempDir();
    const file = join(d, 'config');
    writeFileSync(file, 'clusters: []\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n');
    await expect(loadKubeConfigFiles([file])).rejects.toThrow('the kubeconfig has no server for cluster c');
    writeFileSync(file, 'clusters: []\n');
    await expect(loadKubeConfigFiles([file])).rejects.toThrow('the kubeconfig has no current-context');
  });
});

describe('in-cluster service account', () => {
  it('uses KUBERNETES_SERVICE_HOST/PORT, the mounted CA and the token, re-read as it rotates', () => {
    const d = tempDir();
    writeFileSync(join(d, 'ca.crt'), 'CLUSTER CA');
    writeFileSync(join(d, 'token'), 'first\n');
    const conn = inClusterConnection({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, d);
    expect(conn.server.href).toBe('https://[fd00::1]/');
    expect(conn.tls).toEqual({ ca: Buffer.from('CLUSTER CA'), rejectUnauthorized: true });
    expect(conn.headers()).toEqual({ authorization: 'Bearer first' });
  });

  it('fails without the environment or the token', () => {
    const d = tempDir();
    expect(() => inClusterConnection({}, d)).toThrow('KUBERNETES_SERVICE_HOST/PORT are not set');
    expect(() =>
      inClusterConnection({ KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' }, d),
    ).toThrow(/ENOENT/);
  });

  it('is the last resort of the default search', async () => {
    const d = tempDir();
    // No KUBECONFIG and a HOME without .kube/config: the service account, which is not there either.
    await expect(loadDefaultConnection({ HOME: d })).rejects.toThrow('no kubeconfig found');
  });
});
