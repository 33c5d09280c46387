import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Privilege } from '../../../../bmc-agent/src/bmc/types.ts';
import { uuidFromSmbiosGuid } from '../../../../bmc-agent/src/ipmi/commands/guid.ts';
import { CompletionCode } from '../../../../bmc-agent/src/ipmi/types.ts';
import pkg from '../../../../package.json' with { type: 'json' };
import { type Bench, bench, NETFN, okData, UUID } from './support.ts';

describe('App netFn: BMC device commands', () => {
  let b: Bench;
  beforeEach(async () => {
    b = await bench();
  });
  afterEach(() => b.cleanup());

  it('Get Device ID reports IPMI 2.0, device available, chassis/FRU/SEL/SDR/sensor support, package firmware (table 20-2)', async () => {
    const d = okData(await b.lan(NETFN.App, 0x01));
    expect(d).toHaveLength(15);
    expect(d[2]! & 0x80).toBe(0); // device available
    const [major, minor] = pkg.version.split('.').map(Number);
    expect(d[2]! & 0x7f).toBe(major);
    expect(d[3]).toBe(Number.parseInt(String(minor), 16)); // BCD
    expect(d[4]).toBe(0x02); // IPMI 2.0
    expect(d[5]).toBe(0x8f);
    expect(d[6]! | (d[7]! << 8) | (d[8]! << 16)).toBe(7154);
  });

  it('Get System GUID is the VM UUID in SMBIOS byte order (what ipmitool mc guid prints)', async () => {
    const d = okData(await b.lan(NETFN.App, 0x37));
    expect(d).toHaveLength(16);
    expect(uuidFromSmbiosGuid(Uint8Array.from(d))).toBe(UUID);
    expect(d.slice(0, 4)).toEqual([0x8c, 0x5f, 0x0e, 0x2d]); // time_low little-endian
  });

  it('Get Device GUID is stable, a valid UUID, and not the system GUID', async () => {
    const a = okData(await b.lan(NETFN.App, 0x08));
    const again = okData(await b.lan(NETFN.App, 0x08));
    expect(a).toEqual(again);
    expect(uuidFromSmbiosGuid(Uint8Array.from(a))).not.toBe(UUID);
    expect(uuidFromSmbiosGuid(Uint8Array.from(a))).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab]/);
  });

  it('Get Self Test Results answers 55h "no error" (table 20-4)', async () => {
    expect(okData(await b.inband(NETFN.App, 0x04))).toEqual([0x55, 0x00]);
  });

  it('Cold and Warm Reset are accepted from Administrator only', async () => {
    expect((await b.lan(NETFN.App, 0x02)).cc).toBe(0);
    expect((await b.lan(NETFN.App, 0x03, [], b.session(Privilege.Operator))).cc).toBe(
      CompletionCode.InsufficientPrivilege,
    );
  });

  it('Set/Get BMC Global Enables round-trip; the reserved bit is refused (table 22-2)', async () => {
    expect(okData(await b.inband(NETFN.App, 0x2f))).toEqual([0x08]);
    expect((await b.inband(NETFN.App, 0x2e, [0x0d])).cc).toBe(0);
    expect(okData(await b.inband(NETFN.App, 0x2f))).toEqual([0x0d]);
    expect((await b.inband(NETFN.App, 0x2e, [0x10])).cc).toBe(CompletionCode.InvalidDataField);
    expect(okData(await b.inband(NETFN.App, 0x2f))).toEqual([0x0d]);
  });

  it('the KCS driver polling commands answer: no message flags, empty queues (section 22.4-22.8)', async () => {
    expect(okData(await b.inband(NETFN.App, 0x31))).toEqual([0x00]);
    expect((await b.inband(NETFN.App, 0x30, [0xff])).cc).toBe(0);
    expect((await b.inband(NETFN.App, 0x33)).cc).toBe(0x80);
    expect((await b.inband(NETFN.App, 0x35)).cc).toBe(0x80);
  });
});

describe('App netFn: channel commands', () => {
  let b: Bench;
  beforeEach(async () => {
    b = await bench();
  });
  afterEach(() => b.cleanup());

  it('Get Channel Authentication Capabilities on 0Eh reports RMCP+, non-null users, no 1.5 auth types (table 22-15)', async () => {
    const d = okData(await b.lan(NETFN.App, 0x38, [0x8e, 0x04]));
    expect(d[0]).toBe(1);
    expect(d[1]).toBe(0x80); // IPMI v2.0 extended capabilities; no 1.5 auth types by default
    expect(d[2]! & 0x07).toBe(0x04); // non-null user names only, no anonymous login
    expect(d[2]! & 0x18).toBe(0); // per-message and user-level authentication enabled
    expect(d[3]).toBe(0x02); // IPMI 2.0 connections only
  });

  it('Get Channel Authentication Capabilities offers MD5 when IPMI 1.5 is allowed', async () => {
    const local = await bench({ ipmi15: true });
    try {
      const d = okData(await local.lan(NETFN.App, 0x38, [0x8e, 0x04]));
      expect(d[1]).toBe(0x84);
      expect(d[3]).toBe(0x03);
    } finally {
      await local.cleanup();
    }
  });

  it('Get Channel Authentication Capabilities refuses a bad privilege and a non-LAN channel', async () => {
    expect((await b.lan(NETFN.App, 0x38, [0x8e, 0x00])).cc).toBe(CompletionCode.InvalidDataField);
    expect((await b.lan(NETFN.App, 0x38, [0x85, 0x04])).cc).toBe(CompletionCode.InvalidDataField);
  });

  it('Get Channel Cipher Suites lists suites 3 and 17 as table 22-19 records, 16 bytes per list index', async () => {
    const page0 = okData(await b.lan(NETFN.App, 0x54, [0x0e, 0x00, 0x80]));
    expect(page0).toEqual([0x01, 0xc0, 3, 0x01, 0x41, 0x81, 0xc0, 17, 0x03, 0x44, 0x81]);
    const page1 = okData(await b.lan(NETFN.App, 0x54, [0x0e, 0x00, 0x81]));
    expect(page1).toEqual([0x01]); // end of list
    const algorithms = okData(await b.lan(NETFN.App, 0x54, [0x01, 0x00, 0x00]));
    expect(algorithms).toEqual([0x01, 0x01, 0x03, 0x41, 0x44, 0x81]);
  });

  it('Get Channel Cipher Suites pages across list indexes when the records exceed 16 bytes', async () => {
    const ctx = { ...b.context(b.session()), cipherSuites: [0, 1, 2, 3, 17] };
    const read = async (index: number) =>
      okData(
        await b.dispatcher.dispatch(
          { netFn: NETFN.App, cmd: 0x54, lun: 0, data: Uint8Array.from([1, 0, 0x80 | index]), channel: 1 },
          ctx,
        ),
      ).slice(1);
    const all = [...(await read(0)), ...(await read(1))];
    expect((await read(0)).length).toBe(16);
    expect(all).toHaveLength(25);
    expect(all.slice(20)).toEqual([0xc0, 17, 0x03, 0x44, 0x81]);
  });

  it('Get Channel Info: channel 1 is 802.3 LAN, multi-session; 0Fh is the session-less system interface (table 22-29)', async () => {
    b.session();
    const lan = okData(await b.lan(NETFN.App, 0x42, [0x01]));
    expect(lan.slice(0, 3)).toEqual([0x01, 0x04, 0x01]);
    expect(lan[3]! & 0xc0).toBe(0x80);
    expect(lan[3]! & 0x3f).toBe(2); // the session just made and the one sending
    const current = okData(await b.inband(NETFN.App, 0x42, [0x0e]));
    expect(current.slice(0, 4)).toEqual([0x0f, 0x0c, 0x05, 0x00]);
    expect((await b.lan(NETFN.App, 0x42, [0x05])).cc).toBe(CompletionCode.InvalidDataField);
  });

  it('Set/Get Channel Access round-trips through the store (tables 22-27, 22-28)', async () => {
    const get = async (which: number) => okData(await b.lan(NETFN.App, 0x41, [0x01, which]));
    expect(await get(0x40)).toEqual([0x22, 0x04]); // alerting disabled, always available; Administrator
    // set non-volatile: per-message auth disabled, always available; privilege limit Operator
    expect((await b.lan(NETFN.App, 0x40, [0x01, 0x40 | 0x20 | 0x10 | 0x02, 0x40 | 0x03])).cc).toBe(0);
    expect(await get(0x80)).toEqual([0x32, 0x03]);
    expect(b.store.state().channels[1]?.perMessageAuth).toBe(false);
    expect(b.store.state().channels[1]?.privilegeLimit).toBe(Privilege.Operator);
    expect((await b.lan(NETFN.App, 0x40, [0x01, 0xc0, 0x00])).cc).toBe(CompletionCode.InvalidDataField);
    expect((await b.lan(NETFN.App, 0x40, [0x01, 0x00, 0x40 | 0x09])).cc).toBe(CompletionCode.InvalidDataField);
    expect(b.store.state().channels[1]?.privilegeLimit).toBe(Privilege.Operator);
    expect((await b.lan(NETFN.App, 0x41, [0x01, 0x00])).cc).toBe(CompletionCode.InvalidDataField);
  });

  it('Get Channel Payload Support lists IPMI and session setup payloads; SOL only when plugged in (table 24-9)', async () => {
    expect(okData(await b.lan(NETFN.App, 0x4e, [0x01]))).toEqual([0x01, 0, 0x3f, 0, 0, 0, 0, 0]);
  });
});
