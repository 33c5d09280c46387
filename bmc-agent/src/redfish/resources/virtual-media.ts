// VirtualMedia CD1 (CD/DVD) and USB1 (removable disk), shown under the Manager and under the System;
// both views drive the same Machine media.
import type { Request, Router } from 'express';
import type { MediaId, MediaState } from '../../machine/types.ts';
import { link, odataMeta, type RedfishContext } from '../context.ts';
import { baseMessage, type ExtendedInfo, fromMachineError, notFound, RedfishError } from '../errors.ts';
import { type AuthFor, bodyObject, checkIfMatch, route, sendResource } from '../http.ts';
import { odataType } from '../schemas/catalog.ts';
import { checkAction, checkPatch, type FieldSpec } from '../validate.ts';

const INSERT = 'VirtualMedia.InsertMedia';
const EJECT = 'VirtualMedia.EjectMedia';
const MEDIA_IDS: readonly MediaId[] = ['CD1', 'USB1'];
export const TRANSFER_PROTOCOLS = ['HTTP', 'HTTPS'] as const;

/** Only http(s) URLs: the image is fetched by the BMC side, never read from the agent's own disk. */
export function imageUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'only http and https images are supported';
  return undefined;
}

function mediaIdOf(req: Request): MediaId {
  const id = String(req.params.mediaId);
  if (!(MEDIA_IDS as readonly string[]).includes(id)) throw notFound('VirtualMedia', id);
  return id as MediaId;
}

function mediaState(ctx: RedfishContext, id: MediaId): MediaState {
  const state = ctx.machine.media().find((m) => m.id === id);
  if (!state) throw notFound('VirtualMedia', id);
  return state;
}

function protocolOf(image: string | null): string | null {
  if (!image) return null;
  const scheme = image.slice(0, image.indexOf(':')).toUpperCase();
  return (TRANSFER_PROTOCOLS as readonly string[]).includes(scheme) ? scheme : null;
}

function imageName(image: string | null): string | null {
  if (!image) return null;
  try {
    return decodeURIComponent(new URL(image).pathname.split('/').pop() ?? '') || null;
  } catch {
    return null;
  }
}

export function mediaBody(ctx: RedfishContext, base: string, id: MediaId): Record<string, unknown> {
  const m = mediaState(ctx, id);
  const uri = `${base}/VirtualMedia/${id}`;
  const status: Record<string, unknown> = {
    State: m.status === 'Inserting' ? 'Starting' : 'Enabled',
    Health: m.status === 'Failed' ? 'Warning' : 'OK',
  };
  if (m.status === 'Failed' && m.error) {
    const info = baseMessage('OperationFailed');
    status.Conditions = [{ MessageId: info.MessageId, Message: `${info.Message} ${m.error}`, Severity: 'Warning' }];
  }
  return {
    ...odataMeta(uri, odataType('VirtualMedia')),
    Id: id,
    Name: id === 'CD1' ? 'Virtual CD' : 'Virtual Removable Disk',
    MediaTypes: id === 'CD1' ? ['CD', 'DVD'] : ['USBStick'],
    Image: m.image,
    ImageName: imageName(m.image),
    Inserted: m.inserted,
    WriteProtected: m.writeProtected,
    ConnectedVia: m.inserted ? 'URI' : 'NotConnected',
    TransferProtocolType: protocolOf(m.image),
    Status: status,
    Actions: {
      [`#${INSERT}`]: {
        target: `${uri}/Actions/${INSERT}`,
        'TransferProtocolType@Redfish.AllowableValues': [...TRANSFER_PROTOCOLS],
      },
      [`#${EJECT}`]: { target: `${uri}/Actions/${EJECT}` },
    },
  };
}

async function insert(
  ctx: RedfishContext,
  id: MediaId,
  image: string,
  writeProtected: boolean | undefined,
  invalid: ExtendedInfo,
): Promise<void> {
  try {
    const result = await ctx.machine.insertMedia(
      id,
      image,
      writeProtected === undefined ? undefined : { writeProtected },
    );
    // A failed insert is an error for the client, never a silent Inserted=false.
    if (result.status === 'Failed' || !result.inserted) {
      const e = new RedfishError(400, baseMessage('OperationFailed'));
      e.detail = result.error ?? 'the image could not be attached';
      throw e;
    }
  } catch (err) {
    throw fromMachineError(err, invalid) ?? err;
  }
}

async function eject(ctx: RedfishContext, id: MediaId): Promise<void> {
  try {
    await ctx.machine.ejectMedia(id);
  } catch (err) {
    throw fromMachineError(err, baseMessage('ActionParameterValueError', ['Image', EJECT])) ?? err;
  }
}

export function virtualMediaCollection(router: Router, authFor: AuthFor, base: string): void {
  route(
    router,
    `${base}/VirtualMedia`,
    {
      GET: {
        privilege: 'Login',
        handle: (req, res) =>
          sendResource(req, res, {
            ...odataMeta(`${base}/VirtualMedia`, odataType('VirtualMediaCollection')),
            Name: 'Virtual Media Collection',
            'Members@odata.count': MEDIA_IDS.length,
            Members: MEDIA_IDS.map((id) => link(`${base}/VirtualMedia/${id}`)),
          }),
      },
    },
    authFor,
  );
}

const PATCHABLE: Record<string, FieldSpec> = {
  Image: { type: 'string', nullable: true, format: imageUrlProblem },
  Inserted: { type: 'boolean' },
  WriteProtected: { type: 'boolean' },
};

export function virtualMediaRoutes(router: Router, ctx: RedfishContext, authFor: AuthFor, base: string): void {
  route(
    router,
    `${base}/VirtualMedia/:mediaId`,
    {
      GET: { privilege: 'Login', handle: (req, res) => sendResource(req, res, mediaBody(ctx, base, mediaIdOf(req))) },
      // PATCH Image is the older way some clients insert media; Image null or Inserted false ejects.
      PATCH: {
        privilege: 'ConfigureComponents',
        handle: async (req, res) => {
          const id = mediaIdOf(req);
          const current = mediaBody(ctx, base, id);
          checkIfMatch(req, current);
          const body = bodyObject(req) ?? {};
          checkPatch(body, PATCHABLE, current);
          const image = body.Image as string | null | undefined;
          if (image === null || body.Inserted === false) await eject(ctx, id);
          else if (typeof image === 'string')
            await insert(
              ctx,
              id,
              image,
              body.WriteProtected as boolean | undefined,
              baseMessage('PropertyValueIncorrect', ['Image', image]),
            );
          else if (body.WriteProtected !== undefined || body.Inserted === true)
            throw new RedfishError(400, baseMessage('PropertyMissing', ['Image'], '#/Image'));
          sendResource(req, res, mediaBody(ctx, base, id));
        },
      },
    },
    authFor,
  );

  route(
    router,
    `${base}/VirtualMedia/:mediaId/Actions/${INSERT}`,
    {
      POST: {
        privilege: 'ConfigureComponents',
        handle: async (req, res) => {
          const id = mediaIdOf(req);
          const p = checkAction(INSERT, bodyObject(req, { allowEmpty: true }), {
            Image: { type: 'string', required: true, format: imageUrlProblem },
            Inserted: { type: 'boolean' },
            WriteProtected: { type: 'boolean' },
            TransferProtocolType: { type: 'string', enum: TRANSFER_PROTOCOLS, nullable: true },
            TransferMethod: { type: 'string', enum: ['Stream', 'Upload'], nullable: true },
            UserName: { type: 'string', nullable: true },
            Password: { type: 'string', nullable: true },
          });
          const image = p.Image as string;
          if (p.Inserted === false)
            throw new RedfishError(400, baseMessage('ActionParameterValueError', ['Inserted', INSERT], '#/Inserted'));
          for (const cred of ['UserName', 'Password'])
            if (typeof p[cred] === 'string' && p[cred] !== '')
              throw new RedfishError(400, baseMessage('ActionParameterNotSupported', [cred, INSERT], `#/${cred}`));
          const declared = p.TransferProtocolType as string | null | undefined;
          if (declared && declared !== protocolOf(image))
            throw new RedfishError(
              400,
              baseMessage('ActionParameterValueConflict', ['TransferProtocolType', declared], '#/TransferProtocolType'),
            );
          await insert(
            ctx,
            id,
            image,
            p.WriteProtected as boolean | undefined,
            // The machine names its reason in the detail; point at the parameter it most likely refused.
            p.WriteProtected === false
              ? baseMessage('ActionParameterValueError', ['WriteProtected', INSERT], '#/WriteProtected')
              : baseMessage('ActionParameterValueError', ['Image', INSERT], '#/Image'),
          );
          res.status(204).end();
        },
      },
    },
    authFor,
  );

  route(
    router,
    `${base}/VirtualMedia/:mediaId/Actions/${EJECT}`,
    {
      POST: {
        privilege: 'ConfigureComponents',
        handle: async (req, res) => {
          const id = mediaIdOf(req);
          checkAction(EJECT, bodyObject(req, { allowEmpty: true }), {});
          await eject(ctx, id);
          res.status(204).end();
        },
      },
    },
    authFor,
  );
}
