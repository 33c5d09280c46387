import { afterEach, describe, expect, it } from 'vitest';
import { encodeLanRequest } from '../../../../bmc-agent/src/ipmi/codec/message.ts';
import { encodeRmcp, RmcpClass } from '../../../../bmc-agent/src/ipmi/codec/rmcp.ts';
import { encodeSession15 } from '../../../../bmc-agent/src/ipmi/codec/session15.ts';
import { loginV15 } from './client.ts';
import { type Bed, bed } from './support.ts';

let current: Bed | undefined;
afterEach(() => {
  current?.close();
  current = undefined;
});
async function open(allowV15: boolean): Promise<Bed> {
  current = await bed({ allowV15 });
  return current;
}

describe('IPMI 1.5 sessions (MD5), allowed by configuration', () => {
  it('challenge, activate, then commands signed both ways; our numbering starts at the console initial outbound', async () => {
    const b = await open(true);
    const r = await loginV15(b.client, { user: 'admin', password: 'password', initialOutbound: 0x500 });
    if (!r.session) throw new Error(`v1.5 login failed: ${JSON.stringify(r)}`);
    expect(b.table.active()[0]).toMatchObject({ authType: 'md5', maxPrivilege: 4, privilege: 2 });
    const s = r.session;
    expect(s.response((await b.send(s.request(0x06, 0x3b, [4]))).reply)).toMatchObject({ cc: 0, sequence: 0x501 });
    expect(s.response((await b.send(s.request(0x06, 0x01))).reply)).toMatchObject({ cc: 0, sequence: 0x502, cmd: 1 });
    expect(b.rejections).toEqual([]);
  });

  it('drops replays and forged AuthCodes', async () => {
    const b = await open(true);
    const r = await loginV15(b.client, { user: 'admin', password: 'password' });
    if (!r.session) throw new Error('v1.5 login failed');
    const packet = r.session.request(0x06, 0x01);
    expect((await b.send(packet)).reply).toBeDefined();
    expect(await b.send(packet)).toEqual({ reply: undefined, rejected: 'replay' });
    const forged = r.session.request(0x06, 0x01);
    forged[forged.length - 2] = (forged[forged.length - 2] ?? 0) ^ 1;
    expect((await b.send(forged)).rejected).toMatch(/^(integrity|malformed-checksum)$/);
  });

  it('refuses a wrong password at Activate Session, unknown users at the challenge, and privilege above the limit', async () => {
    const b = await open(true);
    expect(await loginV15(b.client, { user: 'admin', password: 'wrong' })).toEqual({ challengeCc: 0 });
    expect(b.rejections).toEqual(['bad-password']);
    expect((await loginV15(b.client, { user: 'nobody', password: 'x' })).challengeCc).toBe(0x81);
    expect((await loginV15(b.client, { user: 'operator', password: 'oppass', privilege: 4 })).activateCc).toBe(0x86);
    expect((await loginV15(b.client, { user: 'operator', password: 'oppass', privilege: 3 })).session).toBeDefined();
    expect(b.table.active()).toHaveLength(1);
  });

  it('does not let an RMCP+ session ID be used in IPMI 1.5 framing', async () => {
    const b = await open(true);
    const { login } = await import('./client.ts');
    const rmcpPlus = await login(b.client, { user: 'admin', password: 'password', suite: 3 });
    const id = rmcpPlus.session?.bmcSessionId ?? 0;
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
    const packet = encodeRmcp(
      RmcpClass.Ipmi,
      encodeSession15({ authType: 2, sequence: 1, sessionId: id, authCode: new Uint8Array(16), message }),
    );
    expect((await b.send(packet)).rejected).toBe('unknown-session');
  });
});

describe('IPMI 1.5 sessions, off by default', () => {
  it('drops Get Session Challenge and v1.5 session packets', async () => {
    const b = await open(false);
    await expect(loginV15(b.client, { user: 'admin', password: 'password' })).rejects.toThrow(/no reply/);
    expect(b.rejections).toEqual(['no-session']);
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
    const packet = encodeRmcp(
      RmcpClass.Ipmi,
      encodeSession15({ authType: 2, sequence: 1, sessionId: 5, authCode: new Uint8Array(16), message }),
    );
    expect((await b.send(packet)).rejected).toBe('v15-session');
  });
});
