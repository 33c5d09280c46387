// App netFn session and payload commands (IPMI 2.0 sections 22.18-22.20, 24.1-24.4). Session establishment itself
// (Get Session Challenge, Activate Session, RMCP+ Open Session/RAKP) belongs to the LAN transport, not this table.
import { Privilege, type PrivilegeLevel } from '../../bmc/types.ts';
import { type CommandContext, CompletionCode, type SessionHandle } from '../types.ts';
import { byteAt, fail, ok, readU32le, u16le } from './bytes.ts';
import type { Runtime } from './runtime.ts';
import { type CommandSpec, command, NetFn } from './table.ts';

export const PayloadType = { Ipmi: 0x00, Sol: 0x01 } as const;
const SOL_INSTANCES = 1;

/** Highest privilege the store allows this session's user on its channel right now (user limit and channel limit). */
function currentLimit(ctx: CommandContext, session: SessionHandle): number {
  const state = ctx.store.state();
  const user = state.users.find((u) => u.id === session.userId);
  const userLimit = user?.enabled
    ? (user.channels[session.channel]?.privilege ?? Privilege.NoAccess)
    : Privilege.NoAccess;
  const channelLimit = state.channels[session.channel]?.privilegeLimit ?? Privilege.Administrator;
  if (userLimit === Privilege.NoAccess) return 0;
  return Math.min(userLimit, channelLimit, session.maxPrivilege);
}

function sessionHandleOf(ctx: CommandContext, session: SessionHandle): number {
  const index = ctx.sessions?.active().findIndex((s) => s.id === session.id) ?? -1;
  return index + 1;
}

function sessionInfo(ctx: CommandContext, session: SessionHandle | undefined): number[] {
  const active = ctx.sessions?.active().length ?? 0;
  const max = ctx.sessions?.maxSessions ?? 0;
  if (!session) return [0, max & 0x3f, active & 0x3f];
  const ip = session.remoteAddress
    .replace(/^::ffff:/, '')
    .split('.')
    .map(Number);
  const ipBytes = ip.length === 4 && ip.every((n) => Number.isInteger(n) && n >= 0 && n <= 255) ? ip : [0, 0, 0, 0];
  return [
    sessionHandleOf(ctx, session),
    max & 0x3f,
    active & 0x3f,
    session.userId & 0x3f,
    session.privilege & 0x0f,
    ((session.authType === 'rmcp+' ? 1 : 0) << 4) | (session.channel & 0x0f),
    ...ipBytes,
    0,
    0,
    0,
    0,
    0,
    0, // remote MAC is not known to a UDP socket
    ...u16le(session.remotePort), // LS byte first (table 22-22)
  ];
}

export function sessionCommands(rt: Runtime): CommandSpec[] {
  const app = { netFn: NetFn.App };
  return [
    command(
      { ...app, cmd: 0x3b, name: 'Set Session Privilege Level', privilege: Privilege.Callback, length: 1 },
      (req, ctx) => {
        const level = byteAt(req.data, 0) & 0x0f;
        const session = ctx.session;
        if (level === 0) return ok([session?.privilege ?? ctx.privilege]);
        if (level > Privilege.Oem) return fail(CompletionCode.InvalidDataField);
        if (!session) return level <= ctx.privilege ? ok([level]) : fail(0x81); // system interface: implicit Administrator
        const limit = currentLimit(ctx, session);
        if (limit === 0) return fail(0x80); // level not available for this user
        if (level > limit) return fail(0x81); // exceeds user or channel limit
        session.privilege = level as PrivilegeLevel;
        return ok([level]);
      },
    ),
    command({ ...app, cmd: 0x3c, name: 'Close Session', privilege: Privilege.Callback, length: [4, 5] }, (req, ctx) => {
      const id = readU32le(req.data, 0);
      const target = id !== 0 ? ctx.sessions?.byId(id) : ctx.sessions?.active()[(req.data[4] ?? 0) - 1];
      if (!target) return fail(id !== 0 ? 0x87 : 0x88); // invalid session ID / invalid session handle
      const own = target.id === ctx.session?.id;
      if (!own && ctx.privilege < Privilege.Administrator) return fail(CompletionCode.InsufficientPrivilege);
      // Closing our own session waits until the transport has sent this answer under the session's keys.
      if (own) setImmediate(() => target.close());
      else target.close();
      return ok();
    }),
    command({ ...app, cmd: 0x3d, name: 'Get Session Info', privilege: Privilege.User, length: [1, 5] }, (req, ctx) => {
      const selector = byteAt(req.data, 0);
      const active = ctx.sessions?.active() ?? [];
      let session: SessionHandle | undefined;
      if (selector === 0x00) session = ctx.session;
      else if (selector === 0xfe) session = active[byteAt(req.data, 1) - 1];
      else if (selector === 0xff) {
        if (req.data.length < 5) return fail(CompletionCode.RequestDataLengthInvalid);
        session = ctx.sessions?.byId(readU32le(req.data, 1));
      } else if (selector <= 0x3f) session = active[selector - 1];
      else return fail(CompletionCode.InvalidDataField);
      if (!session && selector !== 0x00) return fail(CompletionCode.InvalidDataField);
      return ok(sessionInfo(ctx, session));
    }),
    command(
      { ...app, cmd: 0x48, name: 'Activate Payload', privilege: Privilege.User, length: [2, 6] },
      async (req, ctx) => {
        const type = byteAt(req.data, 0) & 0x3f;
        const instance = byteAt(req.data, 1) & 0x0f;
        if (type !== PayloadType.Sol) return fail(CompletionCode.InvalidDataField);
        if (instance < 1 || instance > SOL_INSTANCES) return fail(CompletionCode.InvalidDataField);
        const sol = ctx.store.state().sol;
        if (!rt.options.sol || !sol.enabled) return fail(0x81); // payload type disabled
        if (!ctx.session) return fail(CompletionCode.NotSupportedInPresentState); // SOL needs a LAN session
        if (ctx.privilege < sol.privilege) return fail(CompletionCode.InsufficientPrivilege);
        const aux = req.data[2] ?? 0;
        const activation = await rt.options.sol.activate(ctx.session, instance, {
          encrypt: (aux & 0x80) !== 0 || sol.forceEncryption,
          authenticate: (aux & 0x40) !== 0 || sol.forceAuthentication,
        });
        const vlan = ctx.store.state().lan.vlanId || 0xffff;
        return ok([
          0,
          0,
          0,
          0,
          ...u16le(activation.inboundSize),
          ...u16le(activation.outboundSize),
          ...u16le(activation.port),
          ...u16le(vlan),
        ]);
      },
    ),
    command(
      { ...app, cmd: 0x49, name: 'Deactivate Payload', privilege: Privilege.User, length: [2, 6] },
      async (req, ctx) => {
        const type = byteAt(req.data, 0) & 0x3f;
        const instance = byteAt(req.data, 1) & 0x0f;
        if (type !== PayloadType.Sol) return fail(CompletionCode.InvalidDataField);
        if (instance < 1 || instance > SOL_INSTANCES) return fail(CompletionCode.InvalidDataField);
        if (!rt.options.sol) return fail(0x81);
        return (await rt.options.sol.deactivate(ctx.session, instance)) ? ok() : fail(0x80); // 80h: already deactivated
      },
    ),
    command(
      { ...app, cmd: 0x4a, name: 'Get Payload Activation Status', privilege: Privilege.User, length: 1 },
      (req) => {
        const type = byteAt(req.data, 0) & 0x3f;
        if (type !== PayloadType.Sol) return fail(CompletionCode.InvalidDataField);
        const mask = (rt.options.sol?.activeInstances() ?? []).reduce((m, i) => m | (1 << (i - 1)), 0);
        return ok([SOL_INSTANCES, ...u16le(mask)]);
      },
    ),
  ];
}
