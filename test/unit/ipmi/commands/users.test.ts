import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Privilege } from '../../../../bmc-agent/src/bmc/types.ts';
import { CompletionCode } from '../../../../bmc-agent/src/ipmi/types.ts';
import { type Bench, bench, NETFN, okData } from './support.ts';

const name16 = (text: string) => [...Buffer.from(text), ...new Array(16 - Buffer.byteLength(text)).fill(0)];
const pw = (text: string, size: 16 | 20) => [
  ...Buffer.from(text),
  ...new Array(size - Buffer.byteLength(text)).fill(0),
];

describe('App netFn: user commands', () => {
  let b: Bench;
  beforeEach(async () => {
    b = await bench();
  });
  afterEach(() => b.cleanup());

  it("runs MAAS's in-band sequence: name, password, channel access, enable; the user can then log in (section 22.26-22.30)", async () => {
    expect((await b.inband(NETFN.App, 0x45, [3, ...name16('maas')])).cc).toBe(0);
    expect((await b.inband(NETFN.App, 0x47, [0x80 | 3, 0x02, ...pw('s3cret-pass', 20)])).cc).toBe(0);
    // ipmitool channel setaccess 1 3 callin=on ipmi=on link=on privilege=4
    expect((await b.inband(NETFN.App, 0x43, [0x80 | 0x20 | 0x10 | 0x01, 3, 0x04, 0x00])).cc).toBe(0);
    expect(b.store.checkPassword('maas', 's3cret-pass')).toBeUndefined(); // still disabled
    expect((await b.inband(NETFN.App, 0x47, [3, 0x01, ...pw('', 16)])).cc).toBe(0);
    const user = b.store.checkPassword('maas', 's3cret-pass');
    expect(user?.id).toBe(3);
    expect(user?.channels[1]).toEqual({
      privilege: Privilege.Administrator,
      callin: true,
      linkAuth: true,
      ipmiMessaging: true,
    });
  });

  it('Get User Access reports max users, enabled count, fixed names and the per-channel bits (table 22-30)', async () => {
    expect(okData(await b.lan(NETFN.App, 0x44, [0x01, 2]))).toEqual([15, 0x40 | 1, 1, 0x30 | 0x04]);
    // user 1 (anonymous): disabled, call-in restricted, no access
    expect(okData(await b.lan(NETFN.App, 0x44, [0x0e, 1]))).toEqual([15, 0x80 | 1, 1, 0x40 | 0x0f]);
    // an unused slot
    expect(okData(await b.lan(NETFN.App, 0x44, [0x01, 9]))).toEqual([15, 0x80 | 1, 1, 0x40 | 0x0f]);
    expect((await b.lan(NETFN.App, 0x44, [0x01, 16])).cc).toBe(CompletionCode.InvalidDataField);
    expect((await b.lan(NETFN.App, 0x44, [0x01, 0])).cc).toBe(CompletionCode.InvalidDataField);
    expect((await b.lan(NETFN.App, 0x44, [0x0f, 2])).cc).toBe(CompletionCode.InvalidDataField);
  });

  it('in-band "current channel" user access means the LAN channel (ipmitool user list / user priv defaults)', async () => {
    expect(okData(await b.inband(NETFN.App, 0x44, [0x0e, 2]))[3]).toBe(0x34);
    // ipmitool user priv 2 3: only the privilege limit changes (bit 7 of byte 1 clear)
    expect((await b.inband(NETFN.App, 0x43, [0x0e, 2, 0x03, 0x00])).cc).toBe(0);
    expect(b.store.userById(2)?.channels[1]).toEqual({
      privilege: Privilege.Operator,
      callin: true,
      linkAuth: true,
      ipmiMessaging: true,
    });
  });

  it('Set User Access with bit 7 set replaces callin/link/messaging (callin=off sets bit 6)', async () => {
    expect((await b.lan(NETFN.App, 0x43, [0x80 | 0x40 | 0x01, 2, 0x02])).cc).toBe(0);
    expect(b.store.userById(2)?.channels[1]).toEqual({
      privilege: Privilege.User,
      callin: false,
      linkAuth: false,
      ipmiMessaging: false,
    });
    expect((await b.lan(NETFN.App, 0x43, [0x01, 2, 0x07])).cc).toBe(CompletionCode.InvalidDataField);
  });

  it('Get/Set User Name use 16 NUL-padded bytes; user 1 keeps its null name; bad bytes change nothing', async () => {
    expect(okData(await b.lan(NETFN.App, 0x46, [2]))).toEqual(name16('admin'));
    expect(okData(await b.lan(NETFN.App, 0x46, [7]))).toEqual(new Array(16).fill(0));
    expect((await b.lan(NETFN.App, 0x45, [1, ...name16('anon')])).cc).toBe(CompletionCode.InvalidDataField);
    expect((await b.lan(NETFN.App, 0x45, [4, 0x41, 0, 0x42, ...new Array(13).fill(0)])).cc).toBe(
      CompletionCode.InvalidDataField,
    );
    expect((await b.lan(NETFN.App, 0x45, [4, 0xff, 0xfe, ...new Array(14).fill(0)])).cc).toBe(
      CompletionCode.InvalidDataField,
    );
    expect(b.store.userById(4)).toBeUndefined();
    expect((await b.lan(NETFN.App, 0x45, [4, ...name16('sixteen-chars-ok')])).cc).toBe(0);
    expect(b.store.userById(4)?.name).toBe('sixteen-chars-ok');
  });

  it('two enabled users cannot share a name: the store refuses and the command answers CCh', async () => {
    expect((await b.lan(NETFN.App, 0x45, [3, ...name16('admin')])).cc).toBe(0); // disabled: allowed
    expect((await b.lan(NETFN.App, 0x47, [3, 0x01, ...pw('', 16)])).cc).toBe(CompletionCode.InvalidDataField);
    expect(b.store.userById(3)?.enabled).toBe(false);
  });

  it('Test Password: 00h on match, 80h on mismatch, 81h when the stored password is longer than the size tested (table 22-32)', async () => {
    expect((await b.lan(NETFN.App, 0x47, [2, 0x03, ...pw('password', 16)])).cc).toBe(0);
    expect((await b.lan(NETFN.App, 0x47, [0x80 | 2, 0x03, ...pw('password', 20)])).cc).toBe(0);
    expect((await b.lan(NETFN.App, 0x47, [2, 0x03, ...pw('Password', 16)])).cc).toBe(0x80);
    expect((await b.lan(NETFN.App, 0x47, [0x80 | 2, 0x02, ...pw('a-twenty-byte-passwd', 20)])).cc).toBe(0);
    expect((await b.lan(NETFN.App, 0x47, [2, 0x03, ...pw('a-twenty-byte-pa', 16)])).cc).toBe(0x81);
    expect((await b.lan(NETFN.App, 0x47, [0x80 | 2, 0x03, ...pw('a-twenty-byte-passwd', 20)])).cc).toBe(0);
    expect(b.store.checkPassword('admin', 'a-twenty-byte-passwd')?.id).toBe(2);
  });

  it('Set User Password: the data length must match the 16/20-byte form; disable and enable work', async () => {
    expect((await b.lan(NETFN.App, 0x47, [0x80 | 2, 0x02, ...pw('x', 16)])).cc).toBe(
      CompletionCode.RequestDataLengthInvalid,
    );
    expect(b.store.checkPassword('admin', 'password')?.id).toBe(2);
    expect((await b.lan(NETFN.App, 0x47, [2, 0x00])).cc).toBe(0);
    expect(b.store.checkPassword('admin', 'password')).toBeUndefined();
    expect((await b.lan(NETFN.App, 0x47, [2, 0x01])).cc).toBe(0);
    expect(b.store.checkPassword('admin', 'password')?.id).toBe(2);
  });
});

describe('App netFn: session and payload commands', () => {
  let b: Bench;
  beforeEach(async () => {
    b = await bench();
  });
  afterEach(() => b.cleanup());

  it('Set Session Privilege Level raises up to the limit, answers 81h above it, 0 reads back (table 22-24)', async () => {
    const s = b.session(Privilege.User);
    expect(okData(await b.lan(NETFN.App, 0x3b, [0x00], s))).toEqual([Privilege.User]);
    expect(okData(await b.lan(NETFN.App, 0x3b, [0x04], s))).toEqual([Privilege.Administrator]);
    expect(s.privilege).toBe(Privilege.Administrator);
    expect((await b.lan(NETFN.App, 0x3b, [0x05], s)).cc).toBe(0x81);
    // lowering the user's limit in the store takes effect for the next raise
    await b.store.update((d) => {
      d.users.find((u) => u.id === 2)!.channels[1]!.privilege = Privilege.Operator;
    });
    s.privilege = Privilege.User;
    expect((await b.lan(NETFN.App, 0x3b, [0x04], s)).cc).toBe(0x81);
    expect(okData(await b.lan(NETFN.App, 0x3b, [0x03], s))).toEqual([Privilege.Operator]);
  });

  it('Close Session closes by ID (own session after the answer); 87h for an unknown ID (table 22-25)', async () => {
    const own = b.session(Privilege.User);
    const other = b.session(Privilege.Administrator);
    const id = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24];
    expect((await b.lan(NETFN.App, 0x3c, id(other.id), own)).cc).toBe(CompletionCode.InsufficientPrivilege);
    expect(other.closed).toBe(false);
    expect((await b.lan(NETFN.App, 0x3c, id(0xdeadbeef), own)).cc).toBe(0x87);
    expect((await b.lan(NETFN.App, 0x3c, id(own.id), own)).cc).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(own.closed).toBe(true);
    expect((await b.lan(NETFN.App, 0x3c, id(other.id), b.session())).cc).toBe(0);
    expect(other.closed).toBe(true);
  });

  it('Get Session Info describes the current session: handle, counts, user, privilege, IPMI 2.0 on LAN, address (table 22-26)', async () => {
    const s = b.session(Privilege.Operator);
    const d = okData(await b.lan(NETFN.App, 0x3d, [0x00], s));
    expect(d.slice(0, 6)).toEqual([1, 8, 1, 2, 3, 0x11]);
    expect(d.slice(6, 10)).toEqual([127, 0, 0, 1]);
    expect(d.slice(16, 18)).toEqual([40123 & 0xff, 40123 >> 8]);
    expect(okData(await b.lan(NETFN.App, 0x3d, [0xfe, 0x01], s))).toEqual(d);
    expect((await b.lan(NETFN.App, 0x3d, [0x05], s)).cc).toBe(CompletionCode.InvalidDataField);
    expect(okData(await b.inband(NETFN.App, 0x3d, [0x00]))).toEqual([0, 0, 0]);
  });

  it('Get Session Info finds a session by ID (FFh) and by index; Close Session by handle when the ID is 0', async () => {
    const first = b.session(Privilege.User);
    const second = b.session(Privilege.Operator);
    const id = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24];
    const byId = okData(await b.lan(NETFN.App, 0x3d, [0xff, ...id(second.id)], first));
    expect(byId.slice(0, 5)).toEqual([2, 8, 2, 2, Privilege.Operator]);
    expect(okData(await b.lan(NETFN.App, 0x3d, [0x02], first))).toEqual(byId);
    expect((await b.lan(NETFN.App, 0x3d, [0xff, ...id(0x12345678)], first)).cc).toBe(CompletionCode.InvalidDataField);
    expect((await b.lan(NETFN.App, 0x3d, [0xff, 1, 2], first)).cc).toBe(CompletionCode.RequestDataLengthInvalid);
    // handle 2 (the second session), closed by an Administrator session
    expect((await b.lan(NETFN.App, 0x3c, [0, 0, 0, 0, 2], b.session())).cc).toBe(0);
    expect(second.closed).toBe(true);
    expect((await b.lan(NETFN.App, 0x3c, [0, 0, 0, 0, 9], b.session())).cc).toBe(0x88);
  });

  it('Activate Payload for SOL answers 81h (payload type disabled) when no SOL service is plugged in (table 24-2)', async () => {
    expect((await b.lan(NETFN.App, 0x48, [0x01, 0x01, 0xc0, 0, 0, 0])).cc).toBe(0x81);
    expect((await b.lan(NETFN.App, 0x49, [0x01, 0x01, 0, 0, 0, 0])).cc).toBe(0x81);
    expect(okData(await b.lan(NETFN.App, 0x4a, [0x01]))).toEqual([1, 0, 0]);
  });

  it('Activate Payload hands SOL to the plugged-in service with forced encryption, and reports its activation', async () => {
    const active = new Set<number>();
    const calls: unknown[] = [];
    const local = await bench({
      sol: {
        activate: async (_session, instance, opts) => {
          calls.push(opts);
          active.add(instance);
          return { inboundSize: 0x100, outboundSize: 0x100, port: 623 };
        },
        deactivate: async (_session, instance) => active.delete(instance),
        activeInstances: () => [...active],
      },
    });
    try {
      const d = okData(await local.lan(NETFN.App, 0x48, [0x01, 0x01, 0x00, 0, 0, 0]));
      expect(d).toEqual([0, 0, 0, 0, 0x00, 0x01, 0x00, 0x01, 0x6f, 0x02, 0xff, 0xff]);
      expect(calls).toEqual([{ encrypt: true, authenticate: true }]);
      expect(okData(await local.lan(NETFN.App, 0x4a, [0x01]))).toEqual([1, 1, 0]);
      expect(okData(await local.lan(NETFN.App, 0x4e, [0x01]))[0]).toBe(0x03);
      expect((await local.lan(NETFN.App, 0x49, [0x01, 0x01])).cc).toBe(0);
      expect((await local.lan(NETFN.App, 0x49, [0x01, 0x01])).cc).toBe(0x80);
      // Below the SOL privilege (User by default) is refused: Callback session
      expect((await local.lan(NETFN.App, 0x48, [0x01, 0x01], local.session(Privilege.Callback))).cc).toBe(
        CompletionCode.InsufficientPrivilege,
      );
    } finally {
      await local.cleanup();
    }
  });
});
