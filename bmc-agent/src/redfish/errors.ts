// Redfish error bodies built from the Base message registry: every error names a real MessageId.
import { baseRegistry, odataType } from './schemas/catalog.ts';

export interface ExtendedInfo {
  '@odata.type': string;
  MessageId: string;
  Message: string;
  MessageArgs: string[];
  MessageSeverity: string;
  Resolution: string;
  RelatedProperties?: string[];
}

/** A Base registry message with its arguments filled in. */
export function baseMessage(key: string, args: unknown[] = [], relatedProperty?: string): ExtendedInfo {
  const def = baseRegistry.Messages[key];
  if (!def) throw new Error(`Base registry has no message ${key}`);
  const strArgs = args.map((a) => (typeof a === 'string' ? a : (JSON.stringify(a) ?? String(a))));
  const text = def.Message.replace(/%(\d+)/g, (_, n: string) => strArgs[Number(n) - 1] ?? '');
  const info: ExtendedInfo = {
    '@odata.type': odataType('Message'),
    MessageId: `${baseRegistry.Id}.${key}`,
    Message: text,
    MessageArgs: strArgs,
    MessageSeverity: def.MessageSeverity ?? def.Severity ?? 'Critical',
    Resolution: def.Resolution ?? 'None.',
  };
  if (relatedProperty !== undefined) info.RelatedProperties = [relatedProperty];
  return info;
}

/** Thrown by handlers; the app's error handler turns it into the HTTP response. */
export class RedfishError extends Error {
  readonly status: number;
  readonly messages: ExtendedInfo[];
  readonly headers: Record<string, string>;
  /** Human detail for error.message (e.g. why QEMU refused); the MessageIds stay registry ones. */
  detail: string | undefined;
  constructor(status: number, messages: ExtendedInfo | ExtendedInfo[], headers: Record<string, string> = {}) {
    const list = Array.isArray(messages) ? messages : [messages];
    super(list[0]?.Message ?? `HTTP ${status}`);
    this.name = 'RedfishError';
    this.status = status;
    this.messages = list;
    this.headers = headers;
    this.detail = undefined;
  }

  withDetail(detail: string): this {
    this.detail = detail;
    return this;
  }
}

export function errorBody(messages: ExtendedInfo[], detail?: string): { error: Record<string, unknown> } {
  const first = messages[0];
  const single = messages.length === 1 && first !== undefined;
  const summary = single ? first.Message : 'Several problems were found; see @Message.ExtendedInfo.';
  return {
    error: {
      code: single ? first.MessageId : `${baseRegistry.Id}.GeneralError`,
      message: detail ? `${summary} ${detail}` : summary,
      '@Message.ExtendedInfo': messages,
    },
  };
}

// Shorthands for the errors every resource needs.
export const notFound = (type: string, id: string) =>
  new RedfishError(404, baseMessage('ResourceNotFound', [type, id]));
export const missingAtUri = (uri: string) => new RedfishError(404, baseMessage('ResourceMissingAtURI', [uri]));
export const unauthorized = () =>
  new RedfishError(401, baseMessage('NoValidSession'), { 'WWW-Authenticate': 'Basic realm="qemu-bmc Redfish"' });
export const forbidden = () => new RedfishError(403, baseMessage('InsufficientPrivilege'));
export const malformedJson = () => new RedfishError(400, baseMessage('MalformedJSON'));

/** Maps a Machine failure to a Redfish error; `invalid` needs the caller's own message (which field). */
export function fromMachineError(err: unknown, invalid: ExtendedInfo): RedfishError | undefined {
  if (!(err instanceof Error) || err.name !== 'MachineError' || !('code' in err)) return undefined;
  const detail = (e: RedfishError) => e.withDetail(err.message);
  switch (err.code) {
    case 'invalid':
      return detail(new RedfishError(400, invalid));
    case 'conflict':
      return detail(new RedfishError(409, baseMessage('ResourceInUse')));
    case 'unavailable':
      return detail(new RedfishError(503, baseMessage('ServiceTemporarilyUnavailable', ['5']), { 'Retry-After': '5' }));
    case 'media-failed':
      return detail(new RedfishError(400, baseMessage('OperationFailed')));
    default:
      return undefined;
  }
}
