import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Privilege } from '../../../../bmc-agent/src/bmc/types.ts';
import { CompletionCode } from '../../../../bmc-agent/src/ipmi/types.ts';
import { type Bench, bench, NETFN, okData } from './support.ts';

const GET_BOOT = 0x09;
const SET_BOOT = 0x08;

describe('Chassis netFn', () => {
  let b: Bench;
  beforeEach(async () => {
    b = await bench();
  });
  afterEach(() => b.cleanup());

  it('Get Chassis Status: power bit from the machine, restore policy from the store, identify supported (table 28-3)', async () => {
    expect(okData(await b.lan(NETFN.Chassis, 0x01))).toEqual([0x00, 0x00, 0x40]);
    b.machine.setPower('On');
    await b.store.update((d) => {
      d.powerRestorePolicy = 'always-on';
    });
    expect(okData(await b.lan(NETFN.Chassis, 0x01))).toEqual([0x41, 0x00, 0x40]);
    b.machine.setPower('PoweringOff');
    expect(okData(await b.lan(NETFN.Chassis, 0x01))[0]! & 1).toBe(1);
  });

  it('Chassis Control 0-5 map to ForceOff, On, PowerCycle, ForceRestart, Nmi, GracefulShutdown (table 28-4)', async () => {
    for (const control of [1, 3, 4, 2, 5, 1, 0]) {
      expect((await b.lan(NETFN.Chassis, 0x02, [control], b.session(Privilege.Operator))).cc).toBe(0);
    }
    expect(b.machine.resets).toEqual(['On', 'ForceRestart', 'Nmi', 'PowerCycle', 'GracefulShutdown', 'On', 'ForceOff']);
    expect((await b.lan(NETFN.Chassis, 0x02, [6])).cc).toBe(CompletionCode.InvalidDataField);
    // last power-on came from IPMI
    expect(okData(await b.lan(NETFN.Chassis, 0x01))[1]).toBe(0x10);
  });

  it('Chassis Control answers before a slow action completes; a later failure is reported, not thrown', async () => {
    const errors: unknown[] = [];
    const local = await bench({ actionWaitMs: 10, onError: (e) => errors.push(e) });
    try {
      let fail: (error: Error) => void = () => undefined;
      local.machine.reset = (type) => {
        local.machine.resets.push(type);
        return new Promise<void>((_resolve, reject) => {
          fail = reject;
        });
      };
      expect((await local.inband(NETFN.Chassis, 0x02, [1])).cc).toBe(0);
      expect(local.machine.resets).toEqual(['On']);
      expect(errors).toEqual([]);
      fail(new Error('QEMU exited during start'));
      await new Promise((r) => setImmediate(r));
      expect(errors.map(String)).toEqual(['Error: QEMU exited during start']);
    } finally {
      await local.cleanup();
    }
  });

  it('Chassis Identify turns identify on (temporary or forced) as Get Chassis Status shows (table 28-5)', async () => {
    expect((await b.lan(NETFN.Chassis, 0x04, [0x00, 0x01])).cc).toBe(0);
    expect(okData(await b.lan(NETFN.Chassis, 0x01))[2]).toBe(0x60);
    expect((await b.lan(NETFN.Chassis, 0x04, [60])).cc).toBe(0);
    expect(okData(await b.lan(NETFN.Chassis, 0x01))[2]).toBe(0x50);
    expect((await b.lan(NETFN.Chassis, 0x04, [0])).cc).toBe(0);
    expect(okData(await b.lan(NETFN.Chassis, 0x01))[2]).toBe(0x40);
  });

  it('Set Power Restore Policy stores the policy; 03h only reports the supported ones (table 28-8)', async () => {
    expect(okData(await b.lan(NETFN.Chassis, 0x06, [0x01]))).toEqual([0x07]);
    expect(b.store.state().powerRestorePolicy).toBe('previous');
    expect(okData(await b.lan(NETFN.Chassis, 0x06, [0x03]))).toEqual([0x07]);
    expect(b.store.state().powerRestorePolicy).toBe('previous');
    expect((await b.lan(NETFN.Chassis, 0x06, [0x05])).cc).toBe(CompletionCode.InvalidDataField);
    expect(b.store.state().powerRestorePolicy).toBe('previous');
    expect(okData(await b.lan(NETFN.Chassis, 0x01))[0]! & 0x60).toBe(0x20);
  });

  it('Get System Restart Cause reports the machine cause and the channel (table 28-11)', async () => {
    expect(okData(await b.lan(NETFN.Chassis, 0x07))).toEqual([0x00, 0x01]);
    await b.lan(NETFN.Chassis, 0x02, [1]);
    expect(okData(await b.inband(NETFN.Chassis, 0x07))).toEqual([0x01, 0x0f]);
  });
});

describe('Chassis netFn: System Boot Options (section 28.12-28.13, table 28-14)', () => {
  let b: Bench;
  beforeEach(async () => {
    b = await bench();
  });
  afterEach(() => b.cleanup());

  /** What `ipmitool chassis bootdev <dev> options=...` sends. */
  async function bootdev(device: number, flags: number) {
    await b.lan(NETFN.Chassis, SET_BOOT, [0x00, 0x01]); // set in progress
    await b.lan(NETFN.Chassis, SET_BOOT, [0x04, 0x01, 0x00]); // clear BIOS POST ack
    const res = await b.lan(NETFN.Chassis, SET_BOOT, [0x05, 0x80 | flags, device, 0, 0, 0]);
    await b.lan(NETFN.Chassis, SET_BOOT, [0x00, 0x02]); // commit write
    await b.lan(NETFN.Chassis, SET_BOOT, [0x00, 0x00]); // set complete
    return res;
  }
  const getParam = async (param: number, set = 0) => okData(await b.lan(NETFN.Chassis, GET_BOOT, [param, set, 0]));

  it('bootdev pxe (once, legacy) sets the machine override and reads back valid, unlocked', async () => {
    expect((await bootdev(0x04, 0)).cc).toBe(0);
    expect(b.machine.override).toEqual({ target: 'Pxe', enabled: 'Once', mode: 'Legacy' });
    const d = await getParam(5);
    expect(d[0]).toBe(0x01); // parameter version
    expect(d[1]).toBe(0x05); // bit 7 clear: valid/unlocked
    expect(d.slice(2)).toEqual([0x80, 0x04, 0, 0, 0]);
  });

  it('bootdev disk/cdrom with options=persistent,efiboot map to Continuous UEFI', async () => {
    await bootdev(0x08, 0x40 | 0x20);
    expect(b.machine.override).toEqual({ target: 'Hdd', enabled: 'Continuous', mode: 'UEFI' });
    expect((await getParam(5)).slice(2, 4)).toEqual([0xe0, 0x08]);
    await bootdev(0x14, 0x40 | 0x20);
    expect(b.machine.override).toEqual({ target: 'Cd', enabled: 'Continuous', mode: 'UEFI' });
    expect((await getParam(5)).slice(2, 4)).toEqual([0xe0, 0x14]);
  });

  it('every defined device selector maps to a machine target; a specific one (safe mode) reads back as written', async () => {
    const expected: Record<number, string> = {
      4: 'Pxe',
      8: 'Hdd',
      12: 'Hdd',
      16: 'Hdd',
      20: 'Cd',
      24: 'BiosSetup',
      60: 'Usb',
    };
    for (const [device, target] of Object.entries(expected)) {
      await bootdev(Number(device), 0);
      expect(b.machine.override.target).toBe(target);
      expect((await getParam(5))[3]).toBe(Number(device));
    }
    expect((await bootdev(0x28, 0)).cc).toBe(CompletionCode.InvalidDataField); // selector 1010b is reserved
    expect(b.machine.override.target).toBe('Usb');
  });

  it("freeipmi's field-by-field read-modify-write from no override ends Continuous UEFI PXE (ipmi-chassis-config --commit)", async () => {
    const rmw = async (change: (flags: number[]) => void) => {
      const flags = (await getParam(5)).slice(2);
      change(flags);
      expect((await b.lan(NETFN.Chassis, SET_BOOT, [0x05, ...flags])).cc).toBe(0);
    };
    await rmw((f) => {
      f[0] = f[0]! | 0x40; // Boot_Flags_Persistent Yes
    });
    await rmw((f) => {
      f[0] = f[0]! | 0x20; // BIOS_Boot_Type EFI
    });
    await rmw((f) => {
      f[0] = f[0]! | 0x80; // valid
      f[1] = (f[1]! & ~0x3c) | 0x04; // Boot_Device PXE
    });
    expect(b.machine.override).toEqual({ target: 'Pxe', enabled: 'Continuous', mode: 'UEFI' });
    expect((await getParam(5)).slice(2, 4)).toEqual([0xe0, 0x04]);
  });

  it('a valid bit of 0 clears the override; a Redfish-side change shows up in parameter 5', async () => {
    await bootdev(0x04, 0);
    expect((await b.lan(NETFN.Chassis, SET_BOOT, [0x05, 0x00, 0x04, 0, 0, 0])).cc).toBe(0);
    expect(b.machine.override.enabled).toBe('Disabled');
    expect((await getParam(5))[2]! & 0x80).toBe(0);
    await b.machine.setBootOverride({ target: 'Cd', enabled: 'Continuous', mode: 'UEFI' });
    expect((await getParam(5)).slice(2, 4)).toEqual([0xe0, 0x14]);
    // the once-override being consumed at boot shows as "invalid"
    await b.machine.setBootOverride({ enabled: 'Disabled' });
    expect((await getParam(5)).slice(2, 4)).toEqual([0x20, 0x00]);
  });

  it('parameters 0-4, 6 and 7 round-trip; 4 applies its write mask; 7 is per block', async () => {
    expect(await getParam(0)).toEqual([0x01, 0x00, 0x00]);
    expect((await b.lan(NETFN.Chassis, SET_BOOT, [0x00, 0x03])).cc).toBe(CompletionCode.InvalidDataField);
    for (const p of [1, 2, 3]) {
      expect((await b.lan(NETFN.Chassis, SET_BOOT, [p, 0x11])).cc).toBe(0);
      expect(await getParam(p)).toEqual([0x01, p, 0x11]);
    }
    await b.lan(NETFN.Chassis, SET_BOOT, [0x04, 0xff, 0x1f]);
    await b.lan(NETFN.Chassis, SET_BOOT, [0x04, 0x01, 0x00]);
    expect(await getParam(4)).toEqual([0x01, 0x04, 0x00, 0x1e]);
    const info = [0x01, 0x78, 0x56, 0x34, 0x12, 0x01, 0x02, 0x03, 0x04];
    expect((await b.lan(NETFN.Chassis, SET_BOOT, [0x06, ...info])).cc).toBe(0);
    expect(await getParam(6)).toEqual([0x01, 0x06, ...info]);
    expect((await b.lan(NETFN.Chassis, SET_BOOT, [0x07, 0x01, 0xaa, 0xbb])).cc).toBe(0);
    expect(await getParam(7, 1)).toEqual([0x01, 0x07, 0x01, 0xaa, 0xbb, ...new Array(14).fill(0)]);
    expect(await getParam(7, 0)).toEqual([0x01, 0x07, 0x00, ...new Array(16).fill(0)]);
    expect((await b.lan(NETFN.Chassis, GET_BOOT, [0x07, 9, 0])).cc).toBe(CompletionCode.ParameterOutOfRange);
    expect(b.store.state().bootParams[6]).toBe('017856341201020304');
  });

  it('unsupported parameters answer 80h; wrong lengths C7h; nothing is stored', async () => {
    expect((await b.lan(NETFN.Chassis, GET_BOOT, [0x08, 0, 0])).cc).toBe(0x80);
    expect((await b.lan(NETFN.Chassis, SET_BOOT, [0x61, 0x00])).cc).toBe(0x80);
    expect((await b.lan(NETFN.Chassis, SET_BOOT, [0x05, 0x80, 0x04])).cc).toBe(CompletionCode.RequestDataLengthInvalid);
    expect(b.machine.override.enabled).toBe('Disabled');
    expect(b.store.state().bootParams).toEqual({});
  });

  it('Set System Boot Options needs Operator', async () => {
    const res = await b.lan(NETFN.Chassis, SET_BOOT, [0x05, 0x80, 0x04, 0, 0, 0], b.session(Privilege.User));
    expect(res.cc).toBe(CompletionCode.InsufficientPrivilege);
  });
});
