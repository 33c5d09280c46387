import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Privilege } from '../../../../bmc-agent/src/bmc/types.ts';
import { CompletionCode } from '../../../../bmc-agent/src/ipmi/types.ts';
import { type Bench, bench, NETFN, okData } from './support.ts';

const SET_LAN = 0x01;
const GET_LAN = 0x02;
const SET_SOL = 0x21;
const GET_SOL = 0x22;

describe('Transport netFn: LAN Configuration Parameters (table 23-4)', () => {
  let b: Bench;
  beforeEach(async () => {
    b = await bench();
  });
  afterEach(() => b.cleanup());

  const get = async (param: number, channel = 0x01) =>
    okData(await b.lan(NETFN.Transport, GET_LAN, [channel, param, 0, 0]));
  const set = (param: number, data: number[]) => b.lan(NETFN.Transport, SET_LAN, [0x01, param, ...data]);

  it('parameter 3 is the advertised address from the store (what MAAS registers), 5 the stable MAC', async () => {
    expect(await get(3)).toEqual([0x11, 10, 20, 30, 40]);
    expect(await get(5)).toEqual([0x11, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
    expect(okData(await b.inband(NETFN.Transport, GET_LAN, [0x01, 3, 0, 0]))).toEqual([0x11, 10, 20, 30, 40]);
  });

  it('the "get parameter revision only" bit returns just the revision', async () => {
    expect(okData(await b.lan(NETFN.Transport, GET_LAN, [0x81, 3, 0, 0]))).toEqual([0x11]);
  });

  it('reports auth type support/enables, IP source, netmask, gateway, header params, port, VLAN', async () => {
    expect(await get(0)).toEqual([0x11, 0x00]);
    expect(await get(1)).toEqual([0x11, 0x04]);
    expect(await get(2)).toEqual([0x11, 0x04, 0x04, 0x04, 0x04, 0x00]);
    expect(await get(4)).toEqual([0x11, 0x01]);
    expect(await get(6)).toEqual([0x11, 255, 255, 255, 0]);
    expect(await get(7)).toEqual([0x11, 0x40, 0x40, 0x10]);
    expect(await get(10)).toEqual([0x11, 0x02]); // ARP responses on, gratuitous ARP off
    expect(await get(8)).toEqual([0x11, 0x6f, 0x02]);
    expect(await get(12)).toEqual([0x11, 0, 0, 0, 0]);
    expect(await get(20)).toEqual([0x11, 0, 0]);
    expect((await get(16)).slice(1, 7)).toEqual([...Buffer.from('public')]);
  });

  it('parameters 22-24 describe the cipher suites of this BMC and their privilege limits', async () => {
    expect(await get(22)).toEqual([0x11, 2]);
    expect(await get(23)).toEqual([0x11, 0, 3, 17]);
    expect(await get(24)).toEqual([0x11, 0, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44]);
  });

  it('parameter 3 cannot move the advertised address: the same value is accepted, another answers 82h', async () => {
    expect((await set(3, [10, 20, 30, 40])).cc).toBe(0);
    expect((await set(3, [192, 168, 1, 50])).cc).toBe(0x82);
    expect((await set(3, [1, 2, 3])).cc).toBe(CompletionCode.RequestDataLengthInvalid);
    expect(b.store.state().lan.ipAddress).toBe('10.20.30.40');
    expect(await get(3)).toEqual([0x11, 10, 20, 30, 40]);
  });

  it('sets of netmask, gateway, source and VLAN are validated and persisted (ipmitool lan set)', async () => {
    expect((await set(6, [255, 255, 0, 0])).cc).toBe(0);
    expect((await set(12, [192, 168, 1, 1])).cc).toBe(0);
    expect((await set(4, [0x02])).cc).toBe(0);
    expect((await set(20, [0x64, 0x80])).cc).toBe(0);
    const lan = b.store.state().lan;
    expect(lan).toMatchObject({
      netmask: '255.255.0.0',
      gateway: '192.168.1.1',
      ipSource: 'dhcp',
      vlanId: 100,
    });
    expect(await get(20)).toEqual([0x11, 0x64, 0x80]);
    expect((await set(20, [0x64, 0x00])).cc).toBe(0); // ipmitool vlan id off: same ID, enable bit clear
    expect(b.store.state().lan.vlanId).toBe(0);
    expect(await get(20)).toEqual([0x11, 0x64, 0x00]);
    expect((await set(20, [0xff, 0x8f])).cc).toBe(CompletionCode.InvalidDataField); // 4095
    expect((await set(4, [0x03])).cc).toBe(CompletionCode.InvalidDataField);
    expect(b.store.state().lan.ipSource).toBe('dhcp');
  });

  it('cipher suite privileges (ipmitool lan set 1 cipher_privs XoaXXXXXXXXXXXX) round-trip; X marks an entry unusable', async () => {
    expect((await set(24, [0x00, 0x30 | 0x00, 0x04, 0, 0, 0, 0, 0, 0])).cc).toBe(0);
    expect(b.store.state().lan.cipherSuitePrivileges.slice(0, 3)).toEqual([
      Privilege.NoAccess,
      Privilege.Operator,
      Privilege.Administrator,
    ]);
    expect(await get(24)).toEqual([0x11, 0, 0x30, 0x04, 0, 0, 0, 0, 0, 0]); // reads back as written
    expect((await set(24, [0x00, 0x66, 0, 0, 0, 0, 0, 0, 0])).cc).toBe(CompletionCode.InvalidDataField);
  });

  it('read-only parameters answer 82h, unsupported ones 80h, other channels CCh; MD5 is the only enableable auth type', async () => {
    expect((await set(5, [1, 2, 3, 4, 5, 6])).cc).toBe(0x82);
    expect((await set(1, [0x15])).cc).toBe(0x82);
    expect((await b.lan(NETFN.Transport, GET_LAN, [0x01, 0x1a, 0, 0])).cc).toBe(0x80);
    expect((await b.lan(NETFN.Transport, GET_LAN, [0x02, 3, 0, 0])).cc).toBe(CompletionCode.InvalidDataField);
    expect((await set(2, [0x01, 0x04, 0x04, 0x04, 0x00])).cc).toBe(CompletionCode.InvalidDataField);
    expect((await set(2, [0x00, 0x00, 0x04, 0x04, 0x00])).cc).toBe(0);
    expect(b.store.state().lan.authTypeEnables).toEqual([0, 0, 4, 4, 0]);
    expect(b.store.state().lan.macAddress).toBe('52:54:00:12:34:56');
  });

  it('volatile parameters (ARP, header, backup gateway, community, VLAN priority) round-trip in memory', async () => {
    expect((await set(10, [0x03])).cc).toBe(0);
    expect((await set(14, [10, 0, 0, 2])).cc).toBe(0);
    expect((await set(21, [0x05])).cc).toBe(0);
    expect(await get(10)).toEqual([0x11, 0x03]);
    expect(await get(14)).toEqual([0x11, 10, 0, 0, 2]);
    expect(await get(21)).toEqual([0x11, 0x05]);
  });

  it('Set LAN Configuration needs Administrator, Get needs Operator', async () => {
    expect((await b.lan(NETFN.Transport, SET_LAN, [1, 3, 1, 2, 3, 4], b.session(Privilege.Operator))).cc).toBe(
      CompletionCode.InsufficientPrivilege,
    );
    expect((await b.lan(NETFN.Transport, GET_LAN, [1, 3, 0, 0], b.session(Privilege.User))).cc).toBe(
      CompletionCode.InsufficientPrivilege,
    );
    expect(b.store.state().lan.ipAddress).toBe('10.20.30.40');
  });
});

describe('Transport netFn: SOL Configuration Parameters (table 26-5)', () => {
  let b: Bench;
  beforeEach(async () => {
    b = await bench();
  });
  afterEach(() => b.cleanup());

  const get = async (param: number) => okData(await b.lan(NETFN.Transport, GET_SOL, [0x01, param, 0, 0]));
  const set = (param: number, data: number[]) => b.lan(NETFN.Transport, SET_SOL, [0x01, param, ...data]);

  it('reports parameters 0-8 from the store', async () => {
    expect(await get(1)).toEqual([0x11, 0x01]);
    expect(await get(2)).toEqual([0x11, 0xc2]); // forced encryption + authentication, User
    expect(await get(3)).toEqual([0x11, 10, 96]); // 50 ms in 5 ms units
    expect(await get(4)).toEqual([0x11, 7, 50]); // 500 ms in 10 ms units
    expect(await get(5)).toEqual([0x11, 0x0a]);
    expect(await get(6)).toEqual([0x11, 0x0a]);
    expect(await get(7)).toEqual([0x11, 0x01]);
    expect(await get(8)).toEqual([0x11, 0x6f, 0x02]);
    expect((await b.lan(NETFN.Transport, GET_SOL, [0x01, 9, 0, 0])).cc).toBe(0x80);
  });

  it('sets are validated and persisted (ipmitool sol set ...)', async () => {
    expect((await set(1, [0x00])).cc).toBe(0);
    expect((await set(2, [0x83])).cc).toBe(0);
    expect((await set(3, [20, 64])).cc).toBe(0);
    expect((await set(4, [3, 100])).cc).toBe(0);
    expect((await set(5, [0x09])).cc).toBe(0);
    expect(b.store.state().sol).toMatchObject({
      enabled: false,
      forceEncryption: true,
      forceAuthentication: false,
      privilege: Privilege.Operator,
      characterAccumulateMs: 100,
      characterSendThreshold: 64,
      retryCount: 3,
      retryIntervalMs: 1000,
      baudRate: 0x09,
    });
    expect((await set(2, [0x81])).cc).toBe(CompletionCode.InvalidDataField); // Callback cannot use SOL
    expect((await set(6, [0x0b])).cc).toBe(CompletionCode.InvalidDataField);
    expect((await set(8, [0x6f, 0x02])).cc).toBe(0x82);
    expect(b.store.state().sol.baudRate).toBe(0x09);
  });
});
