// Transport netFn (0Ch): Get/Set LAN Configuration Parameters (lan-config.ts) and Get/Set SOL Configuration
// Parameters (sol-config.ts), both on the LAN channel.
import { Privilege } from '../../bmc/types.ts';
import { Channel, type CommandContext, CompletionCode, type IpmiRequest } from '../types.ts';
import { byteAt, ok } from './bytes.ts';
import { CompletionError } from './errors.ts';
import { getLan, setLan } from './lan-config.ts';
import { PARAMETER_REVISION } from './parameters.ts';
import type { Runtime } from './runtime.ts';
import { getSol, setSol } from './sol-config.ts';
import { type CommandSpec, command, NetFn, resolveChannel } from './table.ts';

function lanChannel(req: IpmiRequest, ctx: CommandContext): number {
  const channel = resolveChannel(byteAt(req.data, 0), ctx, req.channel);
  // In-band, "this channel" for LAN parameters means the LAN channel (there is only one).
  if (channel === Channel.SystemInterface && (byteAt(req.data, 0) & 0x0f) === 0x0e) return Channel.Lan;
  if (channel !== Channel.Lan)
    throw new CompletionError(CompletionCode.InvalidDataField, `channel ${channel} is not LAN`);
  return channel;
}

export function transportCommands(rt: Runtime): CommandSpec[] {
  const transport = { netFn: NetFn.Transport };
  const getter =
    (read: (rt: Runtime, ctx: CommandContext, param: number) => number[]) =>
    (req: IpmiRequest, ctx: CommandContext) => {
      lanChannel(req, ctx);
      const revisionOnly = (byteAt(req.data, 0) & 0x80) !== 0;
      const param = byteAt(req.data, 1);
      const data = read(rt, ctx, param); // also for revision-only, so unsupported parameters answer 80h
      return ok(revisionOnly ? [PARAMETER_REVISION] : [PARAMETER_REVISION, ...data]);
    };
  const setter =
    (write: (rt: Runtime, ctx: CommandContext, param: number, data: Uint8Array) => Promise<void>) =>
    async (req: IpmiRequest, ctx: CommandContext) => {
      lanChannel(req, ctx);
      await write(rt, ctx, byteAt(req.data, 1), req.data.subarray(2));
      return ok();
    };
  return [
    command(
      {
        ...transport,
        cmd: 0x01,
        name: 'Set LAN Configuration Parameters',
        privilege: Privilege.Administrator,
        length: [3, 34],
      },
      setter(setLan),
    ),
    command(
      { ...transport, cmd: 0x02, name: 'Get LAN Configuration Parameters', privilege: Privilege.Operator, length: 4 },
      getter(getLan),
    ),
    command(
      {
        ...transport,
        cmd: 0x21,
        name: 'Set SOL Configuration Parameters',
        privilege: Privilege.Administrator,
        length: [3, 18],
      },
      setter(setSol),
    ),
    command(
      { ...transport, cmd: 0x22, name: 'Get SOL Configuration Parameters', privilege: Privilege.User, length: 4 },
      getter(getSol),
    ),
  ];
}
