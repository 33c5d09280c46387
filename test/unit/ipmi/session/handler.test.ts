import { afterEach, describe, expect, it } from 'vitest';
import { decodeAsf, encodePresencePing } from '../../../../bmc-agent/src/ipmi/codec/asf.ts';
import { decodeLanResponse, encodeLanRequest } from '../../../../bmc-agent/src/ipmi/codec/message.ts';
import { decodeRmcp, encodeRmcp, RmcpClass } from '../../../../bmc-agent/src/ipmi/codec/rmcp.ts';
import { decodeSession15, encodeSession15 } from '../../../../bmc-agent/src/ipmi/codec/session15.ts';
import { encodeSession20, PayloadType } from '../../../../bmc-agent/src/ipmi/codec/session20.ts';
import { type ClientSession, login } from './client.ts';
import { type Bed, bed } from './support.ts';

let current: Bed | undefined;
afterEach(() => {
  current?.close();
  current = undefined;
});
async function open(options?: Parameters<typeof bed>[0]): Promise<Bed> {
  current = await bed(options);
  return current;
}

async function loggedIn(b: Bed, suite = 17, user = 'admin', password = 'password'): Promise<ClientSession> {
  const r = await login(b.client, { user, password, suite });
  if (!r.session)
    throw new Error(
      `login failed: ${JSON.stringify({ open: r.open.status, rakp2: r.rakp2?.status, rakp4: r.rakp4?.status })}`,
    );
  return r.session;
}

const GET_DEVICE_ID = [0x06, 0x01] as const;

describe('RMCP+ session establishment', () => {
  it.each([3, 17])('logs in with cipher suite %i and answers under the session keys', async (suite) => {
    const b = await open();
    const s = await loggedIn(b, suite);
    expect(b.table.active()).toHaveLength(1);
    const first = s.response((await b.send(s.request(...GET_DEVICE_ID))).reply);
    expect(first).toMatchObject({ cc: 0, netFn: 7, cmd: 1, sessionId: s.consoleSessionId, sequence: 1 });
    const second = s.response((await b.send(s.request(...GET_DEVICE_ID))).reply);
    // The BMC's outbound sequence starts at 1 and counts up; rqSeq is echoed (FreeIPMI and MAAS rely on both).
    expect(second.sequence).toBe(2);
    expect(second.rqSeq).toBe(2);
    expect(b.rejections).toEqual([]);
  });

  it('starts sessions at User and lets them rise to the negotiated maximum', async () => {
    const b = await open();
    const s = await loggedIn(b);
    expect(b.table.active()[0]?.privilege).toBe(2);
    expect(s.response((await b.send(s.request(0x06, 0x3b, [4]))).reply).cc).toBe(0);
    expect(b.table.active()[0]?.privilege).toBe(4);
  });

  it('refuses cipher suite 0 unless configured', async () => {
    const b = await open();
    const r = await login(b.client, { user: 'admin', password: 'password', suite: 0 });
    expect(r.open.status).toBe(0x04);
    expect(b.rejections).toEqual(['cipher-unsupported']);
    expect(b.table.used).toBe(0);
  });

  it('runs cipher suite 0 when configured: no authentication at all, which is why it is off by default', async () => {
    const b = await open({ cipherSuites: [0, 3] });
    const r = await login(b.client, { user: 'admin', password: 'not-the-password', suite: 0 });
    if (!r.session) throw new Error('suite 0 login failed');
    expect(r.session.response((await b.send(r.session.request(0x06, 0x01))).reply).cc).toBe(0);
  });

  it('refuses suites that are implemented but not enabled', async () => {
    const b = await open({ cipherSuites: [17] });
    expect((await login(b.client, { user: 'admin', password: 'password', suite: 3 })).open.status).not.toBe(0);
  });

  it.each([
    ['unknown user', 'nobody', 'password', 0x0d, 'unknown-user'],
    ['disabled user', 'disabled', 'password', 0x0d, 'disabled-user'],
    ['user without IPMI messaging on the LAN channel', 'nolan', 'password', 0x0d, 'no-channel-access'],
    ['role above the user limit', 'operator', 'oppass', 0x0a, 'privilege'],
  ])('answers RAKP 2 with an error for %s', async (_what, user, password, status, reason) => {
    const b = await open();
    const r = await login(b.client, { user, password, suite: 17 });
    expect(r.rakp2?.status).toBe(status);
    expect(b.rejections).toEqual([reason]);
    expect(b.table.used).toBe(0);
  });

  it('accepts username/privilege lookup (bit 4 clear) as well as name-only lookup, and refuses reserved role bits', async () => {
    const b = await open();
    expect((await login(b.client, { user: 'admin', password: 'password', suite: 17, role: 0x04 })).rakp4?.status).toBe(
      0,
    );
    expect((await login(b.client, { user: 'admin', password: 'password', suite: 17, role: 0x14 })).rakp4?.status).toBe(
      0,
    );
    const bad = await login(b.client, { user: 'admin', password: 'password', suite: 17, role: 0x24, openPrivilege: 4 });
    expect(bad.rakp2?.status).toBe(0x09);
    expect(b.rejections).toEqual(['invalid-role']);
  });

  it('answers a retransmitted RAKP 3 with the same RAKP 4 until the session is used', async () => {
    const b = await open();
    let rakp3: Uint8Array | undefined;
    let rakp4: Uint8Array | undefined;
    const recording: typeof b.client = async (packet) => {
      const reply = await b.client(packet);
      if ((packet[5] ?? 0) === 0x14) {
        rakp3 = packet;
        rakp4 = reply;
      }
      return reply;
    };
    const r = await login(recording, { user: 'admin', password: 'password', suite: 3 });
    if (!r.session || !rakp3 || !rakp4) throw new Error('login failed');
    expect(Buffer.from((await b.send(rakp3)).reply ?? []).equals(Buffer.from(rakp4))).toBe(true);
    expect(b.table.active()).toHaveLength(1);
    expect(r.session.response((await b.send(r.session.request(0x06, 0x01))).reply).cc).toBe(0);
    expect(await b.send(rakp3)).toMatchObject({ rejected: 'unknown-session' });
  });

  it('lets a user in at or below its limit', async () => {
    const b = await open();
    const r = await login(b.client, { user: 'operator', password: 'oppass', suite: 3, role: 0x13 });
    expect(r.rakp4?.status).toBe(0);
    expect(b.table.active()[0]?.maxPrivilege).toBe(3);
  });

  it('caps the Open Session privilege at the cipher suite entry limit (LAN parameter 24)', async () => {
    const b = await open();
    await b.store.update((s) => {
      s.lan.cipherSuitePrivileges[1] = 3; // entry 1 = suite 17
    });
    const r = await login(b.client, { user: 'admin', password: 'password', suite: 17, role: 0x14, openPrivilege: 4 });
    expect(r.open.maxPrivilege).toBe(3);
    expect(r.rakp2?.status).toBe(0x0a);
  });

  it('answers a wrong password with RAKP 4 status 0x0F and creates no session', async () => {
    const b = await open();
    const r = await login(b.client, { user: 'admin', password: 'wrong', suite: 17 });
    expect(r.rakp2?.status).toBe(0);
    expect(r.rakp4?.status).toBe(0x0f);
    expect(b.rejections).toEqual(['bad-password']);
    expect(b.table.used).toBe(0);
  });

  it('sweeps a handshake the console abandoned after RAKP 2 (what ipmitool does on a wrong password)', async () => {
    const b = await open();
    let abandoned = 0;
    b.table.onSweep = (removed) => {
      abandoned += removed.abandoned;
    };
    // A console that stops after RAKP 2: answer RAKP 1, then never send RAKP 3.
    const stopAfterRakp2: typeof b.client = async (packet) => {
      const reply = await b.client(packet);
      return (packet[5] ?? 0) === 0x12 ? undefined : reply;
    };
    await expect(login(stopAfterRakp2, { user: 'admin', password: 'password', suite: 17 })).rejects.toThrow(/no reply/);
    expect(b.table.used).toBe(1);
    b.clock.now += 11_000;
    b.table.sweep();
    expect(abandoned).toBe(1);
    expect(b.table.used).toBe(0);
  });

  it('lets a new handshake displace the oldest pending one, never an active session', async () => {
    const b = await open({ maxSessions: 2 });
    await loggedIn(b);
    const stalled = await login(async (p) => ((p[5] ?? 0) === 0x10 ? b.client(p) : undefined), {
      user: 'admin',
      password: 'password',
      suite: 17,
    }).catch(() => undefined);
    expect(stalled).toBeUndefined();
    expect(b.table.used).toBe(2);
    await loggedIn(b, 3);
    expect(b.table.active()).toHaveLength(2);
  });

  it('refuses a new handshake when every slot holds an active session', async () => {
    const b = await open({ maxSessions: 2 });
    await loggedIn(b);
    await loggedIn(b, 3);
    const r = await login(b.client, { user: 'admin', password: 'password', suite: 17 });
    expect(r.open.status).toBe(0x01);
    expect(b.rejections).toEqual(['session-limit']);
  });
});

describe('packets inside a session', () => {
  it('drops a replayed packet and a duplicate sequence number without answering', async () => {
    const b = await open();
    const s = await loggedIn(b);
    const packet = s.request(...GET_DEVICE_ID);
    expect((await b.send(packet)).reply).toBeDefined();
    expect(await b.send(packet)).toEqual({ reply: undefined, rejected: 'replay' });
    expect(await b.send(s.request(0x06, 0x01, [], s.sequence))).toEqual({ reply: undefined, rejected: 'replay' });
    expect(await b.send(s.request(0x06, 0x01, [], s.sequence + 100))).toEqual({
      reply: undefined,
      rejected: 'sequence-too-far',
    });
  });

  it('drops a packet whose integrity code does not match, without moving the window', async () => {
    const b = await open();
    const s = await loggedIn(b, 3);
    const packet = s.request(...GET_DEVICE_ID);
    for (const at of [5, 10, 20, packet.length - 1]) {
      const tampered = packet.slice();
      tampered[at] = (tampered[at] ?? 0) ^ 0x40;
      const out = await b.send(tampered);
      expect(out.reply).toBeUndefined();
      expect(out.rejected).toMatch(/^(integrity|unknown-session|malformed-.*|security-mismatch)$/);
    }
    expect(b.rejections).toContain('integrity');
    // The untampered original still has an unused sequence number.
    expect(s.response((await b.send(packet)).reply).cc).toBe(0);
  });

  it('refuses unauthenticated or unencrypted packets in a session that negotiated them', async () => {
    const b = await open();
    const s = await loggedIn(b, 3);
    const message = encodeLanRequest({
      rsAddr: 0x20,
      netFn: 6,
      rsLun: 0,
      rqAddr: 0x81,
      rqSeq: 1,
      rqLun: 0,
      cmd: 1,
      data: new Uint8Array(),
    });
    const plain = encodeRmcp(
      RmcpClass.Ipmi,
      encodeSession20({
        header: {
          payloadType: PayloadType.Ipmi,
          encrypted: false,
          authenticated: false,
          sessionId: s.bmcSessionId,
          sequence: 9,
        },
        payload: message,
      }),
    );
    expect(await b.send(plain)).toEqual({ reply: undefined, rejected: 'security-mismatch' });
  });

  it('ignores a session ID from another address, and expires idle sessions', async () => {
    const b = await open({ timeoutMs: 30_000 });
    const s = await loggedIn(b);
    expect((await b.send(s.request(...GET_DEVICE_ID), { address: '127.0.0.2', port: 40000 })).rejected).toBe(
      'unknown-session',
    );
    b.clock.now += 29_000;
    expect((await b.send(s.request(...GET_DEVICE_ID))).reply).toBeDefined();
    b.clock.now += 31_000;
    expect(await b.send(s.request(...GET_DEVICE_ID))).toEqual({ reply: undefined, rejected: 'unknown-session' });
    expect(b.table.active()).toHaveLength(0);
  });

  it('forgets a session after Close Session', async () => {
    const b = await open();
    const s = await loggedIn(b);
    const id = [
      s.bmcSessionId & 0xff,
      (s.bmcSessionId >>> 8) & 0xff,
      (s.bmcSessionId >>> 16) & 0xff,
      s.bmcSessionId >>> 24,
    ];
    expect(s.response((await b.send(s.request(0x06, 0x3c, id))).reply).cc).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect((await b.send(s.request(...GET_DEVICE_ID))).rejected).toBe('unknown-session');
  });
});

describe('other payloads (the SOL transport)', () => {
  it('delivers authenticated SOL payloads, encrypted or not, and refuses unregistered types', async () => {
    const b = await open();
    const s = await loggedIn(b, 3);
    expect(await b.send(s.payload(0x01, Uint8Array.of(1, 0, 0, 0, 0x41)))).toEqual({
      reply: undefined,
      rejected: 'payload-type',
    });
    const got: string[] = [];
    b.handler.onPayload(0x01, (session, data) => got.push(`${session.id}:${Buffer.from(data).toString('hex')}`));
    expect(await b.send(s.payload(0x01, Uint8Array.of(1, 0, 0, 0, 0x41)))).toEqual({
      reply: undefined,
      rejected: undefined,
    });
    expect(await b.send(s.payload(0x01, Uint8Array.of(2, 0, 0, 0), false))).toEqual({
      reply: undefined,
      rejected: undefined,
    });
    expect(got).toEqual([`${s.bmcSessionId}:0100000041`, `${s.bmcSessionId}:02000000`]);
    expect(() => b.handler.onPayload(0x10, () => {})).toThrow(RangeError);
  });

  it('seals BMC-originated payloads with the session keys and the shared outbound sequence', async () => {
    const b = await open();
    const s = await loggedIn(b, 17);
    s.response((await b.send(s.request(0x06, 0x01))).reply); // outbound sequence 1
    const session = b.table.byId(s.bmcSessionId);
    if (!session) throw new Error('no session');
    const sealed = s.open(b.handler.seal(session, 0x01, Uint8Array.of(9, 8, 7), { encrypt: true, authenticate: true }));
    expect(sealed).toEqual({ payloadType: 0x01, encrypted: true, sequence: 2, data: Uint8Array.of(9, 8, 7) });
    const plain = s.open(b.handler.seal(session, 0x01, Uint8Array.of(6), { encrypt: false, authenticate: true }));
    expect(plain).toMatchObject({ encrypted: false, sequence: 3 });
  });

  it('tells listeners when a session ends', async () => {
    const b = await open({ timeoutMs: 5_000 });
    const closed: number[] = [];
    b.table.onSessionClosed((id) => closed.push(id));
    const s = await loggedIn(b);
    b.clock.now += 6_000;
    b.table.sweep();
    expect(closed).toEqual([s.bmcSessionId]);
  });
});

describe('packets without a session', () => {
  const v20 = (netFn: number, cmd: number, data: number[] = []) =>
    encodeRmcp(
      RmcpClass.Ipmi,
      encodeSession20({
        header: { payloadType: PayloadType.Ipmi, encrypted: false, authenticated: false, sessionId: 0, sequence: 0 },
        payload: encodeLanRequest({
          rsAddr: 0x20,
          netFn,
          rsLun: 0,
          rqAddr: 0x81,
          rqSeq: 9,
          rqLun: 0,
          cmd,
          data: Uint8Array.from(data),
        }),
      }),
    );

  it('answers Get Channel Authentication Capabilities in IPMI 1.5 framing, echoing rqSeq', async () => {
    const b = await open();
    const message = encodeLanRequest({
      rsAddr: 0x20,
      netFn: 6,
      rsLun: 0,
      rqAddr: 0x81,
      rqSeq: 0x21,
      rqLun: 0,
      cmd: 0x38,
      data: Uint8Array.of(0x8e, 0x04),
    });
    const { reply } = await b.send(
      encodeRmcp(RmcpClass.Ipmi, encodeSession15({ authType: 0, sequence: 0, sessionId: 0, message })),
    );
    if (!reply) throw new Error('no reply');
    const res = decodeLanResponse(decodeSession15(decodeRmcp(reply).body).message);
    expect(res).toMatchObject({ cc: 0, cmd: 0x38, rqSeq: 0x21, netFn: 7 });
  });

  it('answers Get Channel Cipher Suites in either framing', async () => {
    const b = await open();
    expect((await b.send(v20(6, 0x54, [0x0e, 0x00, 0x80]))).reply).toBeDefined();
    const message = encodeLanRequest({
      rsAddr: 0x20,
      netFn: 6,
      rsLun: 0,
      rqAddr: 0x81,
      rqSeq: 3,
      rqLun: 0,
      cmd: 0x54,
      data: Uint8Array.of(0x0e, 0x00, 0x80),
    });
    const { reply } = await b.send(
      encodeRmcp(RmcpClass.Ipmi, encodeSession15({ authType: 0, sequence: 0, sessionId: 0, message })),
    );
    if (!reply) throw new Error('no reply');
    expect(decodeLanResponse(decodeSession15(decodeRmcp(reply).body).message)).toMatchObject({
      cc: 0,
      cmd: 0x54,
      rqSeq: 3,
    });
  });

  it('refuses every other command before a session exists', async () => {
    const b = await open();
    expect(await b.send(v20(6, 0x01))).toEqual({ reply: undefined, rejected: 'no-session' });
    expect(await b.send(v20(0, 0x02, [0]))).toEqual({ reply: undefined, rejected: 'no-session' });
    const v15 = encodeRmcp(
      RmcpClass.Ipmi,
      encodeSession15({
        authType: 0,
        sequence: 0,
        sessionId: 0,
        message: encodeLanRequest({
          rsAddr: 0x20,
          netFn: 6,
          rsLun: 0,
          rqAddr: 0x81,
          rqSeq: 1,
          rqLun: 0,
          cmd: 0x39,
          data: new Uint8Array(17),
        }),
      }),
    );
    expect(await b.send(v15)).toEqual({ reply: undefined, rejected: 'no-session' });
  });

  it('answers an ASF presence ping with a pong', async () => {
    const b = await open();
    const { reply } = await b.send(encodeRmcp(RmcpClass.Asf, encodePresencePing(7)));
    if (!reply) throw new Error('no pong');
    const pong = decodeAsf(decodeRmcp(reply).body);
    expect(pong).toMatchObject({ type: 0x40, tag: 7 });
  });
});
