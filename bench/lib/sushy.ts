// sushy-tools' emulator with the fake driver, over HTTPS (EC P-256 self-signed certificate, like ours), on loopback.
// Auth: sushy-tools only has HTTP Basic against an htpasswd file with bcrypt hashes (no SessionService), so the
// "basic" rows use an auth file (bcrypt cost 5, htpasswd's default) and the "none" rows run a second instance
// without one — the cheapest path sushy has, standing in for session auth.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../test/support/ports.ts';
import { requirePythonPeers } from '../../test/support/python.ts';
import { requireCommand } from '../../test/support/require.ts';
import { fetchOnce } from './http-load.ts';
import { type Child, execFileAsync, launch, waitFor } from './proc.ts';

export const SUSHY_USER = 'admin';
export const SUSHY_PASS = 'bench-Passw0rd';
export const SUSHY_SYSTEM = '27946b59-9e44-4fa7-8e91-f3527a1ef094'; // the fake driver's default system

export interface RunningSushy {
  proc: Child;
  baseUrl: string;
  systemUrl: string;
  firstOkMs: number;
  stop(): Promise<void>;
}

export async function makeCert(dir: string): Promise<{ cert: string; key: string }> {
  requireCommand('openssl', 'npm run bed -- apt');
  const cert = join(dir, 'peer-tls.crt');
  const key = join(dir, 'peer-tls.key');
  await execFileAsync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-days',
    '2',
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  return { cert, key };
}

export async function startSushy(dir: string, withAuth: boolean): Promise<RunningSushy> {
  const peers = requirePythonPeers();
  const { cert, key } = await makeCert(dir);
  const port = await freePort();
  const label = withAuth ? 'basic' : 'noauth';
  const lines = [
    'SUSHY_EMULATOR_FAKE_DRIVER = True',
    "SUSHY_EMULATOR_LISTEN_IP = '127.0.0.1'",
    `SUSHY_EMULATOR_LISTEN_PORT = ${port}`,
    `SUSHY_EMULATOR_SSL_CERT = '${cert}'`,
    `SUSHY_EMULATOR_SSL_KEY = '${key}'`,
  ];
  if (withAuth) {
    const htpasswd = join(dir, 'sushy-htpasswd');
    const { stdout } = await execFileAsync(peers.python, [
      '-c',
      `import bcrypt,sys; sys.stdout.write(bcrypt.hashpw(b'${SUSHY_PASS}', bcrypt.gensalt(rounds=5)).decode())`,
    ]);
    writeFileSync(htpasswd, `${SUSHY_USER}:${stdout.trim()}\n`);
    lines.push(`SUSHY_EMULATOR_AUTH_FILE = '${htpasswd}'`);
  }
  const config = join(dir, `sushy-${label}.conf`);
  writeFileSync(config, `${lines.join('\n')}\n`);
  const proc = launch(peers.bin('sushy-emulator'), ['--config', config], {
    logPath: join(dir, `sushy-${label}.log`),
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  const baseUrl = `https://127.0.0.1:${port}`;
  try {
    const firstOkMs = await waitFor(
      'sushy-emulator service root',
      async () => {
        if (proc.exited()) throw new Error(`sushy-emulator exited: ${proc.log().slice(-2000)}`);
        const r = await fetchOnce(`${baseUrl}/redfish/v1`).catch(() => undefined);
        return r?.status === 200 ? Number(process.hrtime.bigint() - proc.startedAt) / 1e6 : undefined;
      },
      60_000,
      10,
    );
    return { proc, baseUrl, systemUrl: `${baseUrl}/redfish/v1/Systems/${SUSHY_SYSTEM}`, firstOkMs, stop: proc.stop };
  } catch (err) {
    await proc.stop();
    throw err;
  }
}
