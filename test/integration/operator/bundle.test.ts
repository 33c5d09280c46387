// The operator as it ships: the bundle scripts/build-operator.ts makes (what Dockerfile.operator runs), started as
// a process with the image's node flags, outside the checkout (no node_modules to fall back on). Config errors stay
// one line; a YAML kubeconfig and one with an exec credential plugin (the lazily loaded client-node chunk) both get
// the operator up, campaigning against an apiserver that is not there.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildOperator, OPERATOR_NODE_FLAGS } from '../../../scripts/build-operator.ts';
import { freePort } from '../../support/ports.ts';

const repo = resolve(import.meta.dirname, '../../..');

function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((done, reject) => {
    get({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => done({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

async function eventually<T>(what: string, f: () => Promise<T>): Promise<T> {
  let last: unknown;
  for (let i = 0; i < 100; i++) {
    try {
      return await f();
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${what}: ${String(last)}`);
}

describe('operator bundle (dist/operator)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'operator-bundle-'));
  const out = join(dir, 'dist');
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    await buildOperator(out);
  }, 120_000);
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const env = (extra: Record<string, string>) => ({ PATH: process.env['PATH'] ?? '', HOME: dir, ...extra });

  it('is one file plus chunks, none of which reads from operator/src or node_modules', () => {
    const files = readdirSync(out);
    expect(files).toContain('main.mjs');
    for (const f of files) {
      const code = readFileSync(join(out, f), 'utf8');
      expect(code, f).not.toContain('operator/src/');
      // Only Node built-ins and the bundle's own chunks are imported.
      for (const m of code.matchAll(/\bfrom\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g)) {
        const spec = m[1] ?? m[2] ?? '';
        expect(spec.startsWith('./') || /^(node:)?[a-z_]+$/.test(spec), `${f} imports ${spec}`).toBe(true);
      }
    }
  });

  it('exits 2 with one line when there is no kubeconfig and no cluster', () => {
    const r = spawnSync(process.execPath, [...OPERATOR_NODE_FLAGS, join(out, 'main.mjs')], {
      env: env({}),
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('qemu-bmc-operator: KUBECONFIG: no kubeconfig found (and not running in a cluster)\n');
  });

  it.each([
    ['a YAML kubeconfig with a token', { token: 'not-checked' }],
    [
      'a kubeconfig with an exec credential plugin (client-node)',
      {
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: 'sh',
          args: [
            '-c',
            'echo \'{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t"}}\'',
          ],
          interactiveMode: 'Never',
        },
      },
    ],
  ])(
    'starts with %s: /healthz answers, /readyz says standby while the apiserver is away',
    async (_what, user) => {
      const kubeconfig = join(dir, `config-${Math.random().toString(36).slice(2)}`);
      // Port 1 on loopback: nothing listens, every request to the apiserver fails at once.
      writeFileSync(
        kubeconfig,
        [
          'apiVersion: v1',
          'kind: Config',
          'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]',
          `users: [{name: u, user: ${JSON.stringify(user)}}]`,
          'contexts: [{name: x, context: {cluster: c, user: u}}]',
          'current-context: x',
          '',
        ].join('\n'),
      );
      const port = await freePort();
      let log = '';
      const child = spawn(process.execPath, [...OPERATOR_NODE_FLAGS, join(out, 'main.mjs')], {
        cwd: dir,
        env: env({ KUBECONFIG: kubeconfig, LISTEN_ADDRESS: `127.0.0.1:${port}`, POD_NAME: 'bundle-test' }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      child.stdout?.on('data', (d: Buffer) => {
        log += d.toString();
      });
      child.stderr?.on('data', (d: Buffer) => {
        log += d.toString();
      });
      const health = await eventually(`healthz (log: ${log})`, () => httpGet(port, '/healthz'));
      expect(health.status).toBe(200);
      const ready = await httpGet(port, '/readyz');
      expect(ready.body).toContain('standby');
      expect(child.exitCode).toBeNull();
    },
    60_000,
  );

  it('is what the image runs, with the same node flags', () => {
    const dockerfile = readFileSync(join(repo, 'Dockerfile.operator'), 'utf8');
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
    expect(JSON.parse(entrypoint ?? '[]')).toEqual(['node', ...OPERATOR_NODE_FLAGS, 'dist/operator/main.mjs']);
    expect(dockerfile).toContain('RUN node scripts/build-operator.ts dist/operator');
  });
});
