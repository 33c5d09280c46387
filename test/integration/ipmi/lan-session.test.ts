// IPMI v2.0 over LAN through real clients on loopback: ipmitool (suites 17 and 3), freeipmi (ipmipower, bmc-info),
// pyghmi, plus hand-made tampered and replayed packets. The BMC runs on a real FileBmcStore and a managed QEMU machine.
import { execFile } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeLanRequest } from '../../../bmc-agent/src/ipmi/codec/message.ts';
import { encodeRmcp, RmcpClass } from '../../../bmc-agent/src/ipmi/codec/rmcp.ts';
import { encodeSession20 } from '../../../bmc-agent/src/ipmi/codec/session20.ts';
import { type IpmiLan, startIpmiLan } from '../../../bmc-agent/src/ipmi/lan.ts';
import { silentLogger } from '../../../bmc-agent/src/log.ts';
import { requirePythonPeers } from '../../support/python.ts';
import { requireCommand } from '../../support/require.ts';
import { blast, samplePackets, seedPackets } from '../../unit/ipmi/fuzz-packets.ts';
import { type ClientSession, login, type Send } from '../../unit/ipmi/session/client.ts';
import { type AgentRig, agentRig } from '../agent/support.ts';

const run = promisify(execFile);
const USER = 'admin';
const PASSWORD = 'test-password';

let rig: AgentRig;
let lan: IpmiLan;
let registry: Registry;
let port: number;
let udp: Socket;

/** Sends one datagram and waits up to `waitMs` for the answer; undefined when the BMC stays silent. */
function udpSend(waitMs = 1500): Send {
  return (packet) =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        udp.off('message', onMessage);
        resolve(undefined);
      }, waitMs);
      const onMessage = (msg: Buffer): void => {
        clearTimeout(timer);
        udp.off('message', onMessage);
        resolve(Uint8Array.from(msg));
      };
      udp.on('message', onMessage);
      udp.send(packet, port, '127.0.0.1');
    });
}

async function metric(name: string): Promise<number> {
  return ((await registry.getSingleMetric(name)?.get())?.values ?? []).reduce((n, v) => n + v.value, 0);
}

async function rejected(reason: string): Promise<number> {
  const metric = registry.getSingleMetric('ipmi_lan_rejected_total');
  const values = (await metric?.get())?.values ?? [];
  return values.find((v) => v.labels['reason'] === reason)?.value ?? 0;
}

async function ipmitool(
  args: string[],
  { user = USER, password = PASSWORD } = {},
): Promise<{ code: number; out: string }> {
  const argv = [
    '-I',
    'lanplus',
    '-H',
    '127.0.0.1',
    '-p',
    String(port),
    '-U',
    user,
    '-P',
    password,
    '-R',
    '2',
    '-N',
    '2',
    ...args,
  ];
  try {
    const { stdout, stderr } = await run('ipmitool', argv, { timeout: 60_000 });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

beforeAll(async () => {
  requireCommand('ipmitool', 'bash test/env/apt.sh');
  requireCommand('ipmipower', 'bash test/env/apt.sh');
  requireCommand('bmc-info', 'bash test/env/apt.sh');
  rig = await agentRig({ IPMI_PASS: PASSWORD });
  registry = new Registry();
  lan = await startIpmiLan({
    config: {
      port: 0,
      host: '127.0.0.1',
      cipherSuites: [3, 17],
      allowV15: false,
      maxSessions: 8,
      sessionTimeoutSec: 30,
    },
    log: silentLogger(),
    registry,
    machine: rig.machine,
    store: rig.store,
  });
  port = lan.address.port;
  udp = createSocket('udp4');
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', () => resolve()));
});

afterAll(async () => {
  udp?.close();
  await lan?.close();
  await rig?.cleanup();
});

describe('real clients log in', () => {
  it('ipmitool -I lanplus mc info with its default cipher suite (17)', async () => {
    const r = await ipmitool(['mc', 'info']);
    expect(r.out).toMatch(/Device ID\s+: 32/);
    expect(r.code).toBe(0);
  });

  it('ipmitool -I lanplus -C 3 mc info and chassis power status from the real machine', async () => {
    expect((await ipmitool(['-C', '3', 'mc', 'info'])).out).toMatch(/IPMI Version\s+: 2.0/);
    const status = await ipmitool(['-C', '3', 'chassis', 'power', 'status']);
    expect(status.out.trim()).toBe(`Chassis Power is ${rig.machine.powerState() === 'On' ? 'on' : 'off'}`);
  });

  it('freeipmi ipmipower --stat and bmc-info (cipher suite 3, host:port)', async () => {
    const target = `127.0.0.1:${port}`;
    const power = await run('ipmipower', ['-h', target, '-u', USER, '-p', PASSWORD, '-D', 'LAN_2_0', '--stat'], {
      timeout: 60_000,
    });
    expect(power.stdout.trim()).toBe('127.0.0.1: off'); // ipmipower names the host without the port
    const info = await run('bmc-info', ['-h', target, '-u', USER, '-p', PASSWORD, '-D', 'LAN_2_0', '-I', '3'], {
      timeout: 60_000,
    });
    expect(info.stdout).toMatch(/IPMI Version\s+: 2\.0/);
  });

  it('pyghmi logs in and reads the power state', async () => {
    const peers = requirePythonPeers();
    const script = [
      'import sys',
      'from pyghmi.ipmi import command',
      "c = command.Command(bmc='127.0.0.1', userid=sys.argv[1], password=sys.argv[2], port=int(sys.argv[3]))",
      "print(c.get_power()['powerstate'])",
      "print(c.raw_command(netfn=6, command=1)['data'][0])",
    ].join('\n');
    const { stdout } = await run(peers.python, ['-c', script, USER, PASSWORD, String(port)], { timeout: 60_000 });
    expect(stdout.trim().split('\n')).toEqual(['off', '32']);
  });
});

describe('on the standard port 623 (private network namespace)', () => {
  it('answers freeipmi rmcpping (ASF presence ping) and ipmiping, and ipmitool without -p', async () => {
    for (const c of ['unshare', 'ip', 'rmcpping', 'ipmiping']) requireCommand(c, 'bash test/env/apt.sh');
    const server = `${process.execPath} ${join(import.meta.dirname, 'lan-server.ts')}`;
    const script = [
      'set -e',
      'ip link set lo up',
      `PORT=623 ${server} > "$TMP_READY" 2>&1 &`,
      "trap 'kill %1' EXIT",
      'for i in $(seq 1 100); do grep -q ready "$TMP_READY" && break; sleep 0.1; done',
      'rmcpping -c 2 127.0.0.1',
      'ipmiping -c 2 127.0.0.1',
      'ipmitool -I lanplus -H 127.0.0.1 -U admin -P password mc info',
    ].join('\n');
    const ready = join(tmpdir(), `ipmi-ready-${process.pid}`);
    try {
      const { stdout } = await run('unshare', ['-n', 'bash', '-c', script], {
        timeout: 90_000,
        env: { ...process.env, TMP_READY: ready },
      });
      expect(stdout).toMatch(/2 pings transmitted, 2 pongs received/);
      expect(stdout).toMatch(/2 requests transmitted, 2 responses received/);
      expect(stdout).toMatch(/Device ID\s+: 32/);
    } finally {
      rmSync(ready, { force: true });
    }
  });
});

describe('IPMI 1.5 (MD5) sessions', () => {
  it('are refused by default: ipmitool -I lan gets nowhere', async () => {
    const argv = [
      '-I',
      'lan',
      '-A',
      'MD5',
      '-H',
      '127.0.0.1',
      '-p',
      String(port),
      '-U',
      USER,
      '-P',
      PASSWORD,
      '-R',
      '1',
      '-N',
      '1',
      'mc',
      'info',
    ];
    await expect(run('ipmitool', argv, { timeout: 60_000 })).rejects.toThrow();
  });

  it('work when allowed: ipmitool -I lan, ipmipower -D LAN and bmc-info -D LAN', async () => {
    const v15 = await startIpmiLan({
      config: {
        port: 0,
        host: '127.0.0.1',
        cipherSuites: [3, 17],
        allowV15: true,
        maxSessions: 4,
        sessionTimeoutSec: 30,
      },
      log: silentLogger(),
      registry: new Registry(),
      machine: rig.machine,
      store: rig.store,
    });
    try {
      const p = String(v15.address.port);
      const tool = await run(
        'ipmitool',
        [
          '-I',
          'lan',
          '-A',
          'MD5',
          '-H',
          '127.0.0.1',
          '-p',
          p,
          '-U',
          USER,
          '-P',
          PASSWORD,
          'chassis',
          'power',
          'status',
        ],
        {
          timeout: 60_000,
        },
      );
      expect(tool.stdout.trim()).toBe('Chassis Power is off');
      const power = await run(
        'ipmipower',
        ['-h', `127.0.0.1:${p}`, '-u', USER, '-p', PASSWORD, '-D', 'LAN', '--stat'],
        { timeout: 60_000 },
      );
      expect(power.stdout.trim()).toBe('127.0.0.1: off');
      const info = await run(
        'bmc-info',
        ['-h', `127.0.0.1:${p}`, '-u', USER, '-p', PASSWORD, '-D', 'LAN', '-a', 'MD5'],
        { timeout: 60_000 },
      );
      expect(info.stdout).toMatch(/Device ID\s+: 32/);
    } finally {
      await v15.close();
    }
  });
});

describe('refusals are counted and change nothing', () => {
  it('unknown user: RAKP 2 "unauthorized name"', async () => {
    const before = await rejected('unknown-user');
    const r = await ipmitool(['mc', 'info'], { user: 'nobody' });
    expect(r.code).not.toBe(0);
    expect(await rejected('unknown-user')).toBeGreaterThan(before);
  });

  it('privilege: an Operator account logs in with -L OPERATOR and is refused Administrator (RAKP 2 0Ah)', async () => {
    await rig.store.update((st) => {
      st.users.push({
        id: 9,
        name: 'oper',
        password: 'oper-pass',
        enabled: true,
        channels: { 1: { privilege: 3, callin: true, linkAuth: true, ipmiMessaging: true } },
      });
    });
    const ok = await ipmitool(['-L', 'OPERATOR', 'chassis', 'power', 'status'], {
      user: 'oper',
      password: 'oper-pass',
    });
    expect(ok.out.trim()).toBe('Chassis Power is off');
    const before = await rejected('privilege');
    // ipmitool names the RAKP 2 status only when verbose.
    const refused = await ipmitool(['-v', 'mc', 'info'], { user: 'oper', password: 'oper-pass' });
    expect(refused.code).not.toBe(0);
    expect(refused.out).toMatch(/RAKP 2 message indicates an error : unauthorized role/);
    expect(await rejected('privilege')).toBe(before + 1);
    await rig.store.update((st) => {
      st.users = st.users.filter((u) => u.id !== 9);
    });
  });

  it('cipher suite 0: Open Session refused', async () => {
    const before = await rejected('cipher-unsupported');
    const r = await ipmitool(['-C', '0', 'mc', 'info']);
    expect(r.out).toMatch(/invalid authentication algorithm/);
    expect(await rejected('cipher-unsupported')).toBeGreaterThan(before);
  });

  it('wrong password: RAKP 3 refused (our client) and the handshake abandoned by ipmitool is counted', async () => {
    const before = await rejected('bad-password');
    const r = await login(udpSend(), { user: USER, password: 'wrong', suite: 17 });
    expect(r.rakp4?.status).toBe(0x0f);
    expect(await rejected('bad-password')).toBe(before + 1);
    const abandonedBefore = await rejected('handshake-abandoned');
    expect((await ipmitool(['mc', 'info'], { password: 'wrong' })).code).not.toBe(0);
    // ipmitool checks RAKP 2 itself and stops; the BMC sees only the silence and sweeps the handshake.
    for (let i = 0; i < 30 && (await rejected('handshake-abandoned')) === abandonedBefore; i++) await sleep(500);
    expect(await rejected('handshake-abandoned')).toBeGreaterThan(abandonedBefore);
  });

  describe('inside a session', () => {
    let s: ClientSession;
    const send = udpSend();
    const setUserName = (id: number, name: string): Uint8Array => {
      const field = new Array<number>(16).fill(0);
      field.splice(0, name.length, ...Buffer.from(name));
      return s.request(0x06, 0x45, [id, ...field]);
    };
    const nameOf = (id: number): string | undefined => rig.store.userById(id)?.name;

    beforeAll(async () => {
      const r = await login(send, { user: USER, password: PASSWORD, suite: 3 });
      if (!r.session) throw new Error('login failed');
      s = r.session;
      expect(s.response(await send(s.request(0x06, 0x3b, [4]))).cc).toBe(0);
    });

    it('a packet with a flipped byte gets no answer and changes no user', async () => {
      const before = await rejected('integrity');
      const packet = setUserName(6, 'tampered');
      const tampered = packet.slice();
      const at = packet.length - 20; // inside the encrypted payload, covered by the AuthCode
      tampered[at] = (tampered[at] ?? 0) ^ 0x01;
      expect(await send(tampered)).toBeUndefined();
      expect(await rejected('integrity')).toBe(before + 1);
      expect(nameOf(6)).not.toBe('tampered');
      // The untampered packet still works: the forgery did not consume its sequence number.
      expect(s.response(await send(packet)).cc).toBe(0);
      expect(nameOf(6)).toBe('tampered');
    });

    it('a replayed packet gets no answer and does not redo its change', async () => {
      const packet = setUserName(7, 'alpha');
      expect(s.response(await send(packet)).cc).toBe(0);
      expect(nameOf(7)).toBe('alpha');
      await rig.store.update((st) => {
        const u = st.users.find((x) => x.id === 7);
        if (u) u.name = 'beta';
      });
      const before = await rejected('replay');
      expect(await send(packet)).toBeUndefined();
      expect(await rejected('replay')).toBe(before + 1);
      expect(nameOf(7)).toBe('beta');
    });

    it('session ID 0 carries only the pre-session commands: a sessionless Chassis Control is dropped', async () => {
      const before = await rejected('no-session');
      const chassisOn = encodeRmcp(
        RmcpClass.Ipmi,
        encodeSession20({
          header: { payloadType: 0, encrypted: false, authenticated: false, sessionId: 0, sequence: 0 },
          payload: encodeLanRequest({
            rsAddr: 0x20,
            netFn: 0,
            rsLun: 0,
            rqAddr: 0x81,
            rqSeq: 1,
            rqLun: 0,
            cmd: 0x02,
            data: Uint8Array.of(1),
          }),
        }),
      );
      expect(await send(chassisOn)).toBeUndefined();
      expect(await rejected('no-session')).toBe(before + 1);
      expect(rig.machine.powerState()).toBe('Off');
    });
  });

  it('100,000 random and mutated datagrams change nothing, then ipmitool still works', async () => {
    const users = JSON.stringify(rig.store.state().users);
    const packetsBefore = await metric('ipmi_lan_packets_total');
    await blast(samplePackets(100_000, seedPackets(), [], 0x5eed), port, () => metric('ipmi_lan_packets_total'));
    expect((await metric('ipmi_lan_packets_total')) - packetsBefore).toBeGreaterThan(90_000);
    expect(await rejected('internal-error')).toBe(0);
    expect(JSON.stringify(rig.store.state().users)).toBe(users);
    expect(rig.machine.powerState()).toBe('Off');
    const r = await ipmitool(['mc', 'info']);
    expect(r.out).toMatch(/Device ID\s+: 32/);
    expect((await ipmitool(['-C', '3', 'chassis', 'power', 'status'])).out.trim()).toBe('Chassis Power is off');
  });
});
