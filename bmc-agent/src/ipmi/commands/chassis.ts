// Chassis netFn (00h), IPMI 2.0 section 28: status, power control through the Machine, identify, restore policy,
// restart cause and System Boot Options.
import { type PowerRestorePolicy, Privilege } from '../../bmc/types.ts';
import type { Machine, PowerState, ResetType, RestartCause } from '../../machine/types.ts';
import { CompletionCode } from '../types.ts';
import { getBootOption, setBootOption } from './boot-options.ts';
import { byteAt, fail, ok } from './bytes.ts';
import type { Runtime } from './runtime.ts';
import { type CommandSpec, command, NetFn, updateState } from './table.ts';

/** Chassis Control data byte 1 (table 28-4) to the Machine's reset types. */
export const CHASSIS_CONTROL_ACTIONS: Readonly<Record<number, ResetType>> = {
  0: 'ForceOff', // power down
  1: 'On', // power up
  2: 'PowerCycle',
  3: 'ForceRestart', // hard reset
  4: 'Nmi', // pulse diagnostic interrupt
  5: 'GracefulShutdown', // soft shutdown via ACPI
};

/** Restore policy encoding of Get Chassis Status byte 1 bits 6:5 and Set Power Restore Policy. */
export const RESTORE_POLICY_CODES: Readonly<Record<PowerRestorePolicy, number>> = {
  'always-off': 0,
  previous: 1,
  'always-on': 2,
};

/** Get System Restart Cause (table 28-11). */
function restartCauseCode(cause: RestartCause, policy: PowerRestorePolicy): number {
  switch (cause) {
    case 'chassis-control':
      return 0x01;
    case 'reset-button':
      return 0x02;
    case 'power-button':
      return 0x03;
    case 'watchdog':
      return 0x04;
    case 'power-restore':
      return policy === 'always-on' ? 0x06 : 0x07;
    default:
      return 0x00;
  }
}

/** The chassis is powered while the VM runs or is still shutting down. */
export function poweredOn(state: PowerState): boolean {
  return state === 'On' || state === 'PoweringOff';
}

/**
 * Starts a power action and waits a bounded time for it, so refusals (MachineError) reach the client as completion
 * codes while slow actions (a QEMU start under TCG) do not outlast the client's retry timer: IPMI allows answering
 * Chassis Control before the action completes.
 */
async function startAction(
  machine: Machine,
  type: ResetType,
  waitMs: number,
  lateFailure: (error: unknown) => void,
): Promise<void> {
  const action = machine.reset(type);
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<'pending'>((resolve) => {
    timer = setTimeout(() => resolve('pending'), waitMs);
  });
  try {
    const outcome = await Promise.race([action.then(() => 'done' as const), waited]);
    // A failure after we answered can no longer reach the client: it is reported, never an unhandled rejection.
    if (outcome === 'pending') action.catch(lateFailure);
  } finally {
    clearTimeout(timer);
  }
}

export function chassisCommands(rt: Runtime): CommandSpec[] {
  const chassis = { netFn: NetFn.Chassis };
  return [
    command({ ...chassis, cmd: 0x00, name: 'Get Chassis Capabilities', privilege: Privilege.User, length: 0 }, () =>
      // No intrusion sensor, front panel lockout, diag interrupt button or interlock; every device is the BMC (20h).
      ok([0x00, 0x20, 0x20, 0x20, 0x20]),
    ),
    command(
      { ...chassis, cmd: 0x01, name: 'Get Chassis Status', privilege: Privilege.User, length: 0 },
      (_req, ctx) => {
        const policy = RESTORE_POLICY_CODES[ctx.store.state().powerRestorePolicy];
        const identifying = rt.identify.forced ? 0x20 : rt.identify.untilMs > rt.now() ? 0x10 : 0x00;
        return ok([
          (poweredOn(ctx.machine.powerState()) ? 0x01 : 0) | (policy << 5),
          rt.lastPowerOnByIpmi ? 0x10 : 0x00,
          0x40 | identifying, // identify command supported, and its state
        ]);
      },
    ),
    command(
      { ...chassis, cmd: 0x02, name: 'Chassis Control', privilege: Privilege.Operator, length: 1 },
      async (req, ctx) => {
        const type = CHASSIS_CONTROL_ACTIONS[byteAt(req.data, 0) & 0x0f];
        if (!type) return fail(CompletionCode.InvalidDataField);
        await startAction(ctx.machine, type, rt.options.actionWaitMs ?? 1000, (error) =>
          rt.options.onError?.(error, req),
        );
        if (type === 'On' || type === 'PowerCycle') rt.lastPowerOnByIpmi = true;
        return ok();
      },
    ),
    command(
      { ...chassis, cmd: 0x04, name: 'Chassis Identify', privilege: Privilege.Operator, length: [0, 2] },
      (req) => {
        const seconds = req.data[0] ?? 15;
        const forced = ((req.data[1] ?? 0) & 0x01) !== 0;
        rt.identify = { forced, untilMs: rt.now() + seconds * 1000 };
        return ok();
      },
    ),
    command(
      { ...chassis, cmd: 0x06, name: 'Set Power Restore Policy', privilege: Privilege.Operator, length: 1 },
      async (req, ctx) => {
        const code = byteAt(req.data, 0) & 0x07;
        const policy = (Object.keys(RESTORE_POLICY_CODES) as PowerRestorePolicy[]).find(
          (p) => RESTORE_POLICY_CODES[p] === code,
        );
        if (code !== 0x03) {
          if (!policy) return fail(CompletionCode.InvalidDataField);
          await updateState(ctx, (draft) => {
            draft.powerRestorePolicy = policy;
          });
        }
        return ok([0x07]); // always-on, previous and always-off are all supported
      },
    ),
    command(
      { ...chassis, cmd: 0x07, name: 'Get System Restart Cause', privilege: Privilege.User, length: 0 },
      (req, ctx) =>
        ok([restartCauseCode(ctx.machine.restartCause(), ctx.store.state().powerRestorePolicy), req.channel & 0x0f]),
    ),
    command(
      { ...chassis, cmd: 0x08, name: 'Set System Boot Options', privilege: Privilege.Operator, length: [1, 18] },
      async (req, ctx) => {
        // Bit 7 would mark the parameter invalid/locked; we never lock parameters, so it is accepted and ignored.
        const param = byteAt(req.data, 0) & 0x7f;
        await setBootOption(rt, ctx, ctx.machine, param, req.data.subarray(1));
        return ok();
      },
    ),
    command(
      { ...chassis, cmd: 0x09, name: 'Get System Boot Options', privilege: Privilege.Operator, length: 3 },
      (req, ctx) => {
        const param = byteAt(req.data, 0) & 0x7f;
        const data = getBootOption(rt, ctx, param, byteAt(req.data, 1));
        // Byte 2 bit 7 clear: parameter valid/unlocked (ipmitool prints "invalid/locked" when it is set).
        return ok([0x01, param, ...data]);
      },
    ),
  ];
}
