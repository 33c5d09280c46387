// The IPMI 1.5 half of the packet handler: sessionless discovery in 1.5 framing (always), and MD5 sessions
// (Get Session Challenge, Activate Session, signed session packets) only when IPMI 1.5 is allowed.
import type { BmcStore } from '../../bmc/types.ts';
import { decodeLanRequest, type LanRequest, responseFor } from '../codec/message.ts';
import { encodeRmcp, RmcpClass } from '../codec/rmcp.ts';
import { AuthType, decodeSession15, encodeSession15 } from '../codec/session15.ts';
import { md5AuthCode, v15Key, verifyMd5AuthCode } from '../crypto/md5.ts';
import { CompletionCode, type IpmiResponse } from '../types.ts';
import type { PacketOutcome, Remote } from './packet.ts';
import type { Session } from './session.ts';
import { APP_NETFN, allowedWithoutSession, Cmd } from './sessionless.ts';
import type { SessionTable } from './table.ts';
import { activateSession, getSessionChallenge, type V15Context } from './v15.ts';

export interface V15PacketDeps {
  table: SessionTable;
  store: BmcStore;
  allowV15: boolean;
  dispatch(req: LanRequest, session: Session | undefined): Promise<IpmiResponse>;
}

function sealed(key: Uint8Array, sessionId: number, sequence: number, message: Uint8Array): Uint8Array {
  const authCode = md5AuthCode(key, sessionId, sequence, message);
  return encodeRmcp(
    RmcpClass.Ipmi,
    encodeSession15({ authType: AuthType.Md5, sequence, sessionId, authCode, message }),
  );
}

export async function handleV15Packet(body: Uint8Array, remote: Remote, deps: V15PacketDeps): Promise<PacketOutcome> {
  const p = decodeSession15(body);
  const ctx: V15Context = {
    table: deps.table,
    store: deps.store,
    remoteAddress: remote.address,
    remotePort: remote.port,
  };
  if (p.sessionId === 0) {
    if (p.authType !== AuthType.None) return { rejected: 'no-session' };
    const req = decodeLanRequest(p.message);
    if (!allowedWithoutSession(req, true, deps.allowV15)) return { rejected: 'no-session' };
    let res: IpmiResponse;
    let rejected: string | undefined;
    if (req.cmd === Cmd.GetSessionChallenge) {
      const out = getSessionChallenge(ctx, req.data);
      res = out.response ?? { cc: CompletionCode.Unspecified, data: new Uint8Array(0) };
      rejected = out.rejected;
    } else {
      res = await deps.dispatch(req, undefined);
    }
    const message = responseFor(req, res.cc, res.data);
    const reply = encodeRmcp(
      RmcpClass.Ipmi,
      encodeSession15({ authType: AuthType.None, sequence: 0, sessionId: 0, message }),
    );
    return rejected ? { reply, rejected } : { reply };
  }
  if (!deps.allowV15) return { rejected: 'v15-session' };
  if (p.authType !== AuthType.Md5) return { rejected: 'security-mismatch' };
  const req = decodeLanRequest(p.message);
  if (req.netFn === APP_NETFN && req.cmd === Cmd.ActivateSession) {
    const pending = deps.table.handshake(p.sessionId);
    const pendingUser = pending?.v15 ? deps.store.userById(pending.v15.userId) : undefined;
    const out = activateSession(ctx, p, req.data);
    if (!out.response) return out.rejected ? { rejected: out.rejected } : {};
    // The answer goes out under the temporary session ID (= the new one), signed with the password, carrying the
    // console's initial outbound number: FreeIPMI starts its receive window from it (0 on refusals).
    const key = out.session?.v15Key ?? (pendingUser ? v15Key(pendingUser.password) : undefined);
    const sequence = out.session ? out.session.nextOutboundSequence() : 0;
    const outcome: PacketOutcome = {};
    if (key) outcome.reply = sealed(key, p.sessionId, sequence, responseFor(req, out.response.cc, out.response.data));
    if (out.rejected) outcome.rejected = out.rejected;
    if (out.session) outcome.opened = out.session;
    return outcome;
  }
  const session = deps.table.byId(p.sessionId);
  if (!session?.v15Key || session.remoteAddress !== remote.address) return { rejected: 'unknown-session' };
  if (!verifyMd5AuthCode(session.v15Key, p.sessionId, p.sequence, p.message, p.authCode))
    return { rejected: 'integrity' };
  const verdict = session.authenticatedWindow.check(p.sequence);
  if (verdict !== 'ok')
    return { rejected: verdict === 'duplicate' || verdict === 'too-old' ? 'replay' : `sequence-${verdict}` };
  session.authenticatedWindow.commit(p.sequence);
  deps.table.touch(session);
  const res = await deps.dispatch(req, session);
  return {
    reply: sealed(session.v15Key, session.id, session.nextOutboundSequence(), responseFor(req, res.cc, res.data)),
  };
}
