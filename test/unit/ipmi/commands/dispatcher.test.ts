import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Privilege } from '../../../../bmc-agent/src/bmc/types.ts';
import { validateBmcState } from '../../../../bmc-agent/src/bmc/validate.ts';
import { Channel, CompletionCode } from '../../../../bmc-agent/src/ipmi/types.ts';
import { MachineError } from '../../../../bmc-agent/src/machine/types.ts';
import { type Bench, bench, NETFN, okData } from './support.ts';

describe('command dispatcher', () => {
  let b: Bench;
  beforeEach(async () => {
    b = await bench();
  });
  afterEach(() => b.cleanup());

  it('answers C1h for a command not in the table (IPMI 2.0 table 5-2)', async () => {
    expect((await b.inband(NETFN.App, 0xee)).cc).toBe(CompletionCode.InvalidCommand);
    expect((await b.inband(0x2e, 0x01)).cc).toBe(CompletionCode.InvalidCommand); // OEM/group netFn
  });

  it('answers D4h when the session privilege is below the command minimum (appendix G)', async () => {
    const user = b.session(Privilege.User);
    expect((await b.lan(NETFN.Chassis, 0x02, [0x01], user)).cc).toBe(CompletionCode.InsufficientPrivilege);
    expect(b.machine.resets).toEqual([]);
    const operator = b.session(Privilege.Operator);
    expect((await b.lan(NETFN.Chassis, 0x02, [0x01], operator)).cc).toBe(0);
    expect(b.machine.resets).toEqual(['On']);
    // Administrator-only: users
    expect((await b.lan(NETFN.App, 0x45, [3, ...new Array(16).fill(0x41)], operator)).cc).toBe(
      CompletionCode.InsufficientPrivilege,
    );
  });

  it('never lets a NoAccess caller run anything, even commands open to Callback', async () => {
    const ctx = { ...b.context(), privilege: Privilege.NoAccess };
    const res = await b.dispatcher.dispatch(
      { netFn: NETFN.App, cmd: 0x37, lun: 0, data: new Uint8Array(0), channel: Channel.Lan },
      ctx,
    );
    expect(res.cc).toBe(CompletionCode.InsufficientPrivilege);
  });

  it('answers C7h for too short and too long requests and changes nothing', async () => {
    expect((await b.inband(NETFN.Chassis, 0x02, [])).cc).toBe(CompletionCode.RequestDataLengthInvalid);
    expect((await b.inband(NETFN.Chassis, 0x02, [1, 2])).cc).toBe(CompletionCode.RequestDataLengthInvalid);
    expect((await b.inband(NETFN.App, 0x01, [0])).cc).toBe(CompletionCode.RequestDataLengthInvalid);
    expect(b.machine.resets).toEqual([]);
  });

  it('maps a MachineError conflict to D5h (not supported in present state)', async () => {
    expect((await b.inband(NETFN.Chassis, 0x02, [0x02])).cc).toBe(CompletionCode.NotSupportedInPresentState); // cycle while off
    b.machine.refuse = new MachineError('invalid', 'nope');
    expect((await b.inband(NETFN.Chassis, 0x02, [0x01])).cc).toBe(CompletionCode.InvalidDataField);
  });

  it('answers FFh when a handler throws unexpectedly, reports it, and keeps serving', async () => {
    const errors: unknown[] = [];
    const local = await bench({ onError: (e) => errors.push(e) });
    try {
      local.machine.powerState = () => {
        throw new Error('boom');
      };
      expect((await local.inband(NETFN.Chassis, 0x01)).cc).toBe(CompletionCode.Unspecified);
      expect(errors).toHaveLength(1);
      expect(okData(await local.inband(NETFN.App, 0x04))).toEqual([0x55, 0x00]);
    } finally {
      await local.cleanup();
    }
  });

  it('reports refused machine actions to onError, but not ordinary completion-code answers', async () => {
    const errors: unknown[] = [];
    const local = await bench({ onError: (e) => errors.push(e) });
    try {
      expect((await local.inband(NETFN.Transport, 0x02, [0x01, 0x7f, 0, 0])).cc).toBe(0x80); // unsupported parameter
      expect(errors).toEqual([]);
      local.machine.refuse = new MachineError('unavailable', 'QEMU did not start');
      expect((await local.inband(NETFN.Chassis, 0x02, [0x01])).cc).toBe(CompletionCode.NotSupportedInPresentState);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(MachineError);
    } finally {
      await local.cleanup();
    }
  });

  it('serves the system interface (channel 0Fh, no session) with Administrator rights', async () => {
    expect((await b.inband(NETFN.Chassis, 0x02, [0x01])).cc).toBe(0);
    expect(b.machine.resets).toEqual(['On']);
    const name = [...Buffer.from('maas'), ...new Array(12).fill(0)];
    expect((await b.inband(NETFN.App, 0x45, [3, ...name])).cc).toBe(0);
    expect(b.store.userById(3)?.name).toBe('maas');
  });

  it('has exactly one entry per (netFn, cmd), each with a name and a valid minimum privilege', () => {
    const keys = b.dispatcher.entries.map((e) => `${e.netFn}:${e.cmd}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const e of b.dispatcher.entries) {
      expect(e.name).not.toBe('');
      expect([1, 2, 3, 4]).toContain(e.privilege);
      expect(e.netFn % 2).toBe(0);
    }
  });

  it('answers every random request with a completion code and keeps the state valid (fast-check)', async () => {
    const fc = await import('fast-check');
    const entries = b.dispatcher.entries;
    // Requests of a valid length for a real command reach the handlers; the rest exercise lookup and length checks.
    const wellFormed = fc.constantFrom(...entries).chain((e) =>
      fc.record({
        netFn: fc.constant(e.netFn),
        cmd: fc.constant(e.cmd),
        data: fc.uint8Array({ minLength: e.minLength, maxLength: e.maxLength }),
      }),
    );
    const anything = fc.record({
      netFn: fc.integer({ min: 0, max: 0x3f }),
      cmd: fc.integer({ min: 0, max: 0xff }),
      data: fc.uint8Array({ maxLength: 40 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof({ arbitrary: wellFormed, weight: 4 }, { arbitrary: anything, weight: 1 }),
        fc.constantFrom(Channel.Lan, Channel.SystemInterface),
        fc.constantFrom(Privilege.Callback, Privilege.User, Privilege.Operator, Privilege.Administrator),
        async (req, channel, privilege) => {
          const res = await b.dispatcher.dispatch(
            { ...req, lun: 0, channel },
            b.context(channel === Channel.Lan ? b.session(privilege) : undefined),
          );
          expect(Number.isInteger(res.cc) && res.cc >= 0 && res.cc <= 0xff).toBe(true);
          expect(res.data).toBeInstanceOf(Uint8Array);
          if (res.cc !== 0) expect(res.data.length).toBe(0);
          expect(() => validateBmcState(structuredClone(b.store.state()))).not.toThrow();
        },
      ),
      { numRuns: 3000 },
    );
  });
});
