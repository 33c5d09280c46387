// The one IPMI command table shared by the LAN (RMCP+) and in-band (ipmi-bmc-extern) transports, and its dispatcher:
// lookup, privilege, request length, then the handler; whatever a handler throws becomes a completion code.
import { Privilege } from '../../bmc/types.ts';
import type { Machine, PowerState } from '../../machine/types.ts';
import type { CommandContext, CommandDispatcher, IpmiRequest, IpmiResponse } from '../types.ts';
import { CompletionCode } from '../types.ts';
import { appCommands } from './app.ts';
import { fail } from './bytes.ts';
import { channelCommands } from './channels.ts';
import { chassisCommands } from './chassis.ts';
import { CompletionError, completionCodeFor } from './errors.ts';
import { createRuntime, type DispatcherOptions, type Runtime } from './runtime.ts';
import { sensorCommands } from './sensor.ts';
import { POWER_OFF_OFFSET, SENSOR_TYPE, SENSORS } from './sensors.ts';
import { sessionCommands } from './sessions.ts';
import { storageCommands } from './storage.ts';
import type { CommandSpec } from './table.ts';
import { transportCommands } from './transport.ts';
import { userCommands } from './users.ts';

export { CompletionError } from './errors.ts';
export type { DispatchErrorListener, DispatcherOptions, SolPayloadHook } from './runtime.ts';
export type { CommandSpec } from './table.ts';

export interface IpmiCommandDispatcher extends CommandDispatcher {
  /** Every command with its request length bounds, for docs and tests. */
  readonly entries: readonly CommandSpec[];
  /** Logs the machine's power changes in the SEL (done on first dispatch otherwise). */
  attach(machine: Machine): void;
  /** Stops listening to attached machines. */
  close(): void;
}

function key(netFn: number, cmd: number): number {
  return (netFn << 8) | cmd;
}

function buildTable(rt: Runtime): Map<number, CommandSpec> {
  const all = [
    ...appCommands(rt),
    ...channelCommands(rt),
    ...userCommands(),
    ...sessionCommands(rt),
    ...chassisCommands(rt),
    ...transportCommands(rt),
    ...storageCommands(rt),
    ...sensorCommands(),
  ];
  const table = new Map<number, CommandSpec>();
  for (const spec of all) {
    const k = key(spec.netFn, spec.cmd);
    if (table.has(k)) throw new Error(`duplicate IPMI command netFn ${spec.netFn} cmd ${spec.cmd}`);
    table.set(k, spec);
  }
  return table;
}

/** True when a caller at `have` may run a command needing `need` (NoAccess never may). */
function permitted(have: number, need: number): boolean {
  return have !== Privilege.NoAccess && have >= need;
}

export function createCommandDispatcher(options: DispatcherOptions = {}): IpmiCommandDispatcher {
  const rt = createRuntime(options);
  const table = buildTable(rt);
  const attached = new Map<Machine, (state: PowerState) => void>();
  const powerSensor = SENSORS.find((s) => s.sensorType === SENSOR_TYPE.PowerUnit);

  const attach = (machine: Machine): void => {
    if (attached.has(machine) || !powerSensor) return;
    const listener = (state: PowerState): void => {
      if (state !== 'On' && state !== 'Off') return;
      rt.sel.addSystemEvent({
        sensorType: SENSOR_TYPE.PowerUnit,
        sensorNumber: powerSensor.number,
        eventType: 0x6f,
        deassertion: state === 'On', // "Power Off / Power Down" deasserts when the VM runs again
        data: [POWER_OFF_OFFSET, 0xff, 0xff],
      });
    };
    machine.on('power', listener);
    attached.set(machine, listener);
  };

  const failed = (error: unknown, req: IpmiRequest): IpmiResponse => {
    // A CompletionError is an ordinary answer; anything else (a refused machine action, a bug) is reported.
    if (!(error instanceof CompletionError)) options.onError?.(error, req);
    return fail(completionCodeFor(error));
  };

  const dispatchDirect = (req: IpmiRequest, ctx: CommandContext): IpmiResponse | Promise<IpmiResponse> => {
    const spec = table.get(key(req.netFn, req.cmd));
    if (!spec) return fail(CompletionCode.InvalidCommand);
    if (!permitted(ctx.privilege, spec.privilege)) return fail(CompletionCode.InsufficientPrivilege);
    if (req.data.length < spec.minLength) return fail(CompletionCode.RequestDataLengthInvalid);
    if (req.data.length > spec.maxLength) return fail(CompletionCode.RequestDataLengthInvalid);
    attach(ctx.machine);
    let res: IpmiResponse | Promise<IpmiResponse>;
    try {
      res = spec.handler(req, ctx);
    } catch (error) {
      return failed(error, req);
    }
    return res instanceof Promise ? res.then(undefined, (error: unknown) => failed(error, req)) : res;
  };

  const dispatch = async (req: IpmiRequest, ctx: CommandContext): Promise<IpmiResponse> => dispatchDirect(req, ctx);

  return {
    entries: [...table.values()],
    dispatch,
    dispatchDirect,
    attach,
    close: () => {
      for (const [machine, listener] of attached) machine.off('power', listener);
      attached.clear();
    },
  };
}
