// App netFn user commands (IPMI 2.0 sections 22.26-22.30): per-channel user access, user names, passwords.
// Users live in the BMC store, shared live with LAN logins and Redfish AccountService.
import { timingSafeEqual } from 'node:crypto';
import { type BmcState, type BmcUser, Privilege, type PrivilegeLevel } from '../../bmc/types.ts';
import { Channel, type CommandContext, CompletionCode, type IpmiRequest } from '../types.ts';
import { byteAt, fail, ok, padded, unpadded } from './bytes.ts';
import { CompletionError } from './errors.ts';
import { type CommandSpec, command, NetFn, resolveChannel, updateState } from './table.ts';

/** User IDs 1..15 (bmc/validate.ts accepts the same range); user 1 is the anonymous user with a fixed null name. */
export const MAX_USERS = 15;
const NAME_BYTES = 16;

function userId(byte: number): number {
  const id = byte & 0x3f;
  if (id < 1 || id > MAX_USERS)
    throw new CompletionError(CompletionCode.InvalidDataField, `user ID ${id} out of range`);
  return id;
}

/**
 * The channel whose user access is meant. The system interface has no per-user access of its own, so "this channel"
 * asked in-band (ipmitool's default for `user list` / `user priv`) means the LAN channel those users log in on.
 */
function userAccessChannel(req: IpmiRequest, ctx: CommandContext): number {
  const raw = byteAt(req.data, 0) & 0x0f;
  const channel = resolveChannel(raw, ctx, req.channel);
  if (raw === 0x0e && channel === Channel.SystemInterface) return Channel.Lan;
  if (channel !== Channel.Lan)
    throw new CompletionError(CompletionCode.InvalidDataField, `channel ${channel} has no users`);
  return channel;
}

/** The draft's user with this ID, created empty and disabled when the slot was never used. */
function userSlot(draft: BmcState, id: number): BmcUser {
  let user = draft.users.find((u) => u.id === id);
  if (!user) {
    user = { id, name: '', password: '', enabled: false, channels: {} };
    draft.users.push(user);
    draft.users.sort((a, b) => a.id - b.id);
  }
  return user;
}

function validLimit(level: number): level is PrivilegeLevel {
  return (level >= Privilege.Callback && level <= Privilege.Oem) || level === Privilege.NoAccess;
}

export function userCommands(): CommandSpec[] {
  const app = { netFn: NetFn.App };
  return [
    command({ ...app, cmd: 0x44, name: 'Get User Access', privilege: Privilege.Operator, length: 2 }, (req, ctx) => {
      const channel = userAccessChannel(req, ctx);
      const id = userId(byteAt(req.data, 1));
      const state = ctx.store.state();
      const user = state.users.find((u) => u.id === id);
      const access = user?.channels[channel];
      const enabledCount = state.users.filter((u) => u.enabled).length;
      const enableStatus = user?.enabled ? 0x40 : 0x80;
      return ok([
        MAX_USERS,
        enableStatus | (enabledCount & 0x3f),
        1, // one fixed name: user 1 (anonymous)
        (access?.callin ? 0 : 0x40) |
          (access?.linkAuth ? 0x20 : 0) |
          (access?.ipmiMessaging ? 0x10 : 0) |
          ((access?.privilege ?? Privilege.NoAccess) & 0x0f),
      ]);
    }),
    command(
      { ...app, cmd: 0x43, name: 'Set User Access', privilege: Privilege.Administrator, length: [3, 4] },
      async (req, ctx) => {
        const b0 = byteAt(req.data, 0);
        const channel = userAccessChannel(req, ctx);
        const id = userId(byteAt(req.data, 1));
        const level = byteAt(req.data, 2) & 0x0f;
        if (!validLimit(level)) return fail(CompletionCode.InvalidDataField);
        await updateState(ctx, (draft) => {
          const user = userSlot(draft, id);
          const access = user.channels[channel] ?? {
            privilege: Privilege.NoAccess,
            callin: false,
            linkAuth: false,
            ipmiMessaging: false,
          };
          if (b0 & 0x80) {
            access.callin = (b0 & 0x40) === 0;
            access.linkAuth = (b0 & 0x20) !== 0;
            access.ipmiMessaging = (b0 & 0x10) !== 0;
          }
          access.privilege = level;
          user.channels[channel] = access;
        });
        return ok();
      },
    ),
    command({ ...app, cmd: 0x46, name: 'Get User Name', privilege: Privilege.Operator, length: 1 }, (req, ctx) => {
      const id = userId(byteAt(req.data, 0));
      return ok(padded(ctx.store.userById(id)?.name ?? '', NAME_BYTES));
    }),
    command(
      { ...app, cmd: 0x45, name: 'Set User Name', privilege: Privilege.Administrator, length: 1 + NAME_BYTES },
      async (req, ctx) => {
        const id = userId(byteAt(req.data, 0));
        if (id === 1) return fail(CompletionCode.InvalidDataField); // the anonymous user's null name is fixed
        const name = unpadded(req.data.subarray(1, 1 + NAME_BYTES));
        await updateState(ctx, (draft) => {
          userSlot(draft, id).name = name;
        });
        return ok();
      },
    ),
    command(
      { ...app, cmd: 0x47, name: 'Set User Password', privilege: Privilege.Administrator, length: [2, 22] },
      async (req, ctx) => {
        const b0 = byteAt(req.data, 0);
        const id = userId(b0);
        const operation = byteAt(req.data, 1) & 0x03;
        const size = b0 & 0x80 ? 20 : 16;
        if (operation === 0 || operation === 1) {
          await updateState(ctx, (draft) => {
            userSlot(draft, id).enabled = operation === 1;
          });
          return ok();
        }
        if (req.data.length !== 2 + size) return fail(CompletionCode.RequestDataLengthInvalid);
        const field = req.data.subarray(2, 2 + size);
        if (operation === 2) {
          const password = unpadded(field);
          await updateState(ctx, (draft) => {
            userSlot(draft, id).password = password;
          });
          return ok();
        }
        return testPassword(ctx, id, field, size);
      },
    ),
  ];
}

/** Test Password: 80h on mismatch, 81h when the stored password does not fit the size tested. */
function testPassword(ctx: CommandContext, id: number, field: Uint8Array, size: number) {
  const user = ctx.store.userById(id);
  if (!user) return fail(0x80);
  if (Buffer.byteLength(user.password, 'utf8') > size) return fail(0x81);
  const stored = Buffer.from(padded(user.password, size));
  return timingSafeEqual(stored, Buffer.from(field)) ? ok() : fail(0x80);
}
