// AccountService over the BMC user store shared with IPMI: a Redfish account is an IPMI user slot,
// its RoleId is the user's privilege on the LAN channel.
import type { Request, Router } from 'express';
import type { BmcState, BmcUser } from '../../bmc/types.ts';
import { principalOf } from '../auth.ts';
import { link, odataMeta, type RedfishContext } from '../context.ts';
import { baseMessage, forbidden, notFound, RedfishError } from '../errors.ts';
import { type AuthFor, bodyObject, checkIfMatch, collectionRoute, route, sendResource } from '../http.ts';
import {
  ACCOUNT_ROLE_IDS,
  type AccountRoleId,
  accountRole,
  hasPrivilege,
  LAN_CHANNEL,
  privilegeForRole,
  ROLE_PRIVILEGES,
} from '../roles.ts';
import { odataType } from '../schemas/catalog.ts';
import { checkCreate, checkPatch, type FieldSpec } from '../validate.ts';

const SERVICE = '/redfish/v1/AccountService';
const ACCOUNTS = `${SERVICE}/Accounts`;
const ROLES = `${SERVICE}/Roles`;
/** IPMI user slots; slot 1 is the anonymous user and is never a Redfish account. */
export const FIRST_SLOT = 2;
export const LAST_SLOT = 15;
const NAME_MAX_BYTES = 16; // IPMI user name field
const PASSWORD_MAX_BYTES = 20; // IPMI 2.0 password field

function nameProblem(v: string): string | undefined {
  if (v.length === 0 || Buffer.byteLength(v) > NAME_MAX_BYTES) return `1..${NAME_MAX_BYTES} bytes`;
  // ':' would break HTTP Basic auth; control characters break every client.
  if (!/^[\x21-\x7e]+$/.test(v) || v.includes(':')) return 'printable ASCII without spaces or colons';
  return undefined;
}

function passwordProblem(v: string): string | undefined {
  if (v.length === 0 || Buffer.byteLength(v) > PASSWORD_MAX_BYTES) return `1..${PASSWORD_MAX_BYTES} bytes`;
  return undefined;
}

const ACCOUNT_FIELDS: Record<string, FieldSpec> = {
  UserName: { type: 'string', format: nameProblem },
  Password: { type: 'string', format: passwordProblem },
  RoleId: { type: 'string', enum: ACCOUNT_ROLE_IDS },
  Enabled: { type: 'boolean' },
};
const CREATE_FIELDS: Record<string, FieldSpec> = {
  UserName: { ...ACCOUNT_FIELDS.UserName, type: 'string', required: true },
  Password: { ...ACCOUNT_FIELDS.Password, type: 'string', required: true },
  RoleId: { ...ACCOUNT_FIELDS.RoleId, type: 'string', required: true },
  Enabled: { type: 'boolean' },
};

const isAccount = (u: BmcUser) => u.id >= FIRST_SLOT && u.id <= LAST_SLOT && u.name !== '';

function accountBody(u: BmcUser): Record<string, unknown> {
  const role = accountRole(u);
  return {
    ...odataMeta(`${ACCOUNTS}/${u.id}`, odataType('ManagerAccount')),
    Id: String(u.id),
    Name: 'User Account',
    UserName: u.name,
    RoleId: role,
    Enabled: u.enabled,
    Locked: false,
    Password: null,
    AccountTypes: ['Redfish', 'IPMI'],
    Links: { Role: link(`${ROLES}/${role}`) },
  };
}

function serviceBody(): Record<string, unknown> {
  return {
    ...odataMeta(SERVICE, odataType('AccountService')),
    Id: 'AccountService',
    Name: 'Account Service',
    ServiceEnabled: true,
    MinPasswordLength: 1,
    MaxPasswordLength: PASSWORD_MAX_BYTES,
    LocalAccountAuth: 'Enabled',
    AccountLockoutThreshold: 0,
    Accounts: link(ACCOUNTS),
    Roles: link(ROLES),
    Status: { State: 'Enabled', Health: 'OK' },
  };
}

function roleBody(id: AccountRoleId): Record<string, unknown> {
  return {
    ...odataMeta(`${ROLES}/${id}`, odataType('Role')),
    Id: id,
    Name: `${id} Role`,
    RoleId: id,
    IsPredefined: id !== 'NoAccess',
    AssignedPrivileges: id === 'NoAccess' ? [] : [...ROLE_PRIVILEGES[id]],
    Description:
      id === 'NoAccess'
        ? 'IPMI users without LAN access (Callback or No Access); cannot log in'
        : `IPMI ${id} privilege`,
  };
}

function accountOf(ctx: RedfishContext, req: Request): BmcUser {
  const raw = String(req.params.accountId);
  const id = /^\d{1,2}$/.test(raw) ? Number(raw) : Number.NaN;
  const user = Number.isNaN(id) ? undefined : ctx.store.userById(id);
  if (!user || !isAccount(user)) throw notFound('ManagerAccount', raw);
  return user;
}

/** Refuses a change that would leave nobody able to administer the BMC. */
function keepAnAdministrator(before: readonly BmcUser[], draft: BmcState): void {
  const admins = (users: readonly BmcUser[]) =>
    users.filter((u) => isAccount(u) && u.enabled && accountRole(u) === 'Administrator').length;
  if (admins(before) > 0 && admins(draft.users) === 0)
    throw new RedfishError(409, baseMessage('ResourceInUse')).withDetail(
      'The last enabled Administrator cannot be removed, disabled or demoted.',
    );
}

function setRole(user: BmcUser, role: AccountRoleId): void {
  const lan = user.channels[LAN_CHANNEL];
  user.channels[LAN_CHANNEL] = {
    privilege: privilegeForRole(role),
    callin: lan?.callin ?? true,
    linkAuth: lan?.linkAuth ?? true,
    ipmiMessaging: lan?.ipmiMessaging ?? true,
  };
}

/** Runs a store update; a RedfishError thrown by the mutator comes back out unchanged. */
async function update(ctx: RedfishContext, mutator: (draft: BmcState) => void): Promise<void> {
  try {
    await ctx.store.update(mutator);
  } catch (err) {
    if (err instanceof RedfishError) throw err;
    ctx.log.warn({ err }, 'account change refused by the store');
    throw new RedfishError(400, baseMessage('PropertyValueIncorrect', ['Account', 'change'])).withDetail(
      err instanceof Error ? err.message : String(err),
    );
  }
}

function draftUser(draft: BmcState, id: number): BmcUser {
  const u = draft.users.find((x) => x.id === id);
  if (!u) throw notFound('ManagerAccount', String(id));
  return u;
}

export function accountServiceRoutes(router: Router, ctx: RedfishContext, authFor: AuthFor): void {
  route(
    router,
    SERVICE,
    { GET: { privilege: 'Login', handle: (req, res) => sendResource(req, res, serviceBody()) } },
    authFor,
  );

  collectionRoute(
    router,
    ACCOUNTS,
    {
      GET: {
        privilege: 'Login',
        handle: (req, res) => {
          const p = principalOf(res);
          const all = hasPrivilege(p.role, 'ConfigureUsers');
          const members = ctx.store
            .state()
            .users.filter((u) => isAccount(u) && (all || u.id === p.userId))
            .sort((a, b) => a.id - b.id);
          sendResource(req, res, {
            ...odataMeta(ACCOUNTS, odataType('ManagerAccountCollection')),
            Name: 'Accounts Collection',
            'Members@odata.count': members.length,
            Members: members.map((u) => link(`${ACCOUNTS}/${u.id}`)),
          });
        },
      },
      POST: {
        privilege: 'ConfigureUsers',
        handle: async (req, res) => {
          const body = bodyObject(req) ?? {};
          checkCreate(body, CREATE_FIELDS);
          const name = body.UserName as string;
          if (ctx.store.userByName(name))
            throw new RedfishError(
              409,
              baseMessage('ResourceAlreadyExists', ['ManagerAccount', 'UserName', name], '#/UserName'),
            );
          const taken = new Set(
            ctx.store
              .state()
              .users.filter((u) => u.name !== '')
              .map((u) => u.id),
          );
          let slot: number | undefined;
          for (let id = FIRST_SLOT; id <= LAST_SLOT && slot === undefined; id++) if (!taken.has(id)) slot = id;
          if (slot === undefined) throw new RedfishError(400, baseMessage('CreateLimitReachedForResource'));
          const id = slot;
          await update(ctx, (draft) => {
            const user: BmcUser = {
              id,
              name,
              password: body.Password as string,
              enabled: body.Enabled !== false,
              channels: {},
            };
            setRole(user, body.RoleId as AccountRoleId);
            draft.users = [...draft.users.filter((u) => u.id !== id), user].sort((a, b) => a.id - b.id);
          });
          const created = ctx.store.userById(id);
          if (!created) throw new Error(`account ${id} missing after create`);
          ctx.log.info({ id, name, by: principalOf(res).userName }, 'redfish account created');
          res.setHeader('Location', `${ACCOUNTS}/${id}`);
          sendResource(req, res, accountBody(created), 201, ctx.accountRevisions.of(created.id));
        },
      },
    },
    authFor,
  );

  route(
    router,
    `${ACCOUNTS}/:accountId`,
    {
      GET: {
        privilege: 'Login',
        handle: (req, res) => {
          const user = accountOf(ctx, req);
          const p = principalOf(res);
          if (user.id !== p.userId && !hasPrivilege(p.role, 'ConfigureUsers')) throw forbidden();
          sendResource(req, res, accountBody(user), 200, ctx.accountRevisions.of(user.id));
        },
      },
      PATCH: {
        privilege: 'ConfigureSelf',
        handle: async (req, res) => {
          const user = accountOf(ctx, req);
          const p = principalOf(res);
          const current = accountBody(user);
          checkIfMatch(req, current, ctx.accountRevisions.of(user.id));
          const body = bodyObject(req) ?? {};
          checkPatch(body, ACCOUNT_FIELDS, current);
          // Anyone may change their own password; everything else needs ConfigureUsers.
          const selfPasswordOnly =
            user.id === p.userId && Object.keys(body).every((k) => k === 'Password' || k.includes('@'));
          if (!selfPasswordOnly && !hasPrivilege(p.role, 'ConfigureUsers')) throw forbidden();
          if (typeof body.UserName === 'string' && body.UserName !== user.name && ctx.store.userByName(body.UserName))
            throw new RedfishError(
              409,
              baseMessage('ResourceAlreadyExists', ['ManagerAccount', 'UserName', body.UserName], '#/UserName'),
            );
          await update(ctx, (draft) => {
            const u = draftUser(draft, user.id);
            if (typeof body.UserName === 'string') u.name = body.UserName;
            if (typeof body.Password === 'string') u.password = body.Password;
            if (typeof body.Enabled === 'boolean') u.enabled = body.Enabled;
            if (typeof body.RoleId === 'string') setRole(u, body.RoleId as AccountRoleId);
            keepAnAdministrator(ctx.store.state().users, draft);
          });
          // Credentials changed: other sessions of this account end (the caller's own stays).
          if (body.Password !== undefined || body.Enabled === false || body.UserName !== undefined)
            ctx.sessions.deleteForUser(user.id, p.sessionId);
          ctx.log.info({ id: user.id, fields: Object.keys(body), by: p.userName }, 'redfish account changed');
          const after = ctx.store.userById(user.id);
          if (!after) throw new Error(`account ${user.id} missing after change`);
          sendResource(req, res, accountBody(after), 200, ctx.accountRevisions.of(after.id));
        },
      },
      DELETE: {
        privilege: 'ConfigureUsers',
        handle: async (req, res) => {
          const user = accountOf(ctx, req);
          // An IPMI slot is never removed, only cleared: name empty, disabled, no channel access.
          await update(ctx, (draft) => {
            const u = draftUser(draft, user.id);
            u.name = '';
            u.password = '';
            u.enabled = false;
            u.channels = {};
            keepAnAdministrator(ctx.store.state().users, draft);
          });
          ctx.sessions.deleteForUser(user.id);
          ctx.log.info({ id: user.id, by: principalOf(res).userName }, 'redfish account deleted');
          res.status(204).end();
        },
      },
    },
    authFor,
  );

  route(
    router,
    ROLES,
    {
      GET: {
        privilege: 'Login',
        handle: (req, res) =>
          sendResource(req, res, {
            ...odataMeta(ROLES, odataType('RoleCollection')),
            Name: 'Roles Collection',
            'Members@odata.count': ACCOUNT_ROLE_IDS.length,
            Members: ACCOUNT_ROLE_IDS.map((r) => link(`${ROLES}/${r}`)),
          }),
      },
    },
    authFor,
  );
  route(
    router,
    `${ROLES}/:roleId`,
    {
      GET: {
        privilege: 'Login',
        handle: (req, res) => {
          const id = String(req.params.roleId);
          if (!(ACCOUNT_ROLE_IDS as readonly string[]).includes(id)) throw notFound('Role', id);
          sendResource(req, res, roleBody(id as AccountRoleId));
        },
      },
    },
    authFor,
  );
}
