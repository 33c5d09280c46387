// Which IPMI commands a console may send before it has a session (IPMI 2.0 §13.14, §22.15).
import type { LanRequest } from '../codec/message.ts';

export const APP_NETFN = 0x06;
export const Cmd = {
  GetChannelAuthCapabilities: 0x38,
  GetSessionChallenge: 0x39,
  ActivateSession: 0x3a,
  GetChannelCipherSuites: 0x54,
} as const;

/** `v15`: the request came in IPMI 1.5 framing. */
export function allowedWithoutSession(req: LanRequest, v15: boolean, allowV15: boolean): boolean {
  if (req.netFn !== APP_NETFN) return false;
  if (req.cmd === Cmd.GetChannelAuthCapabilities) return true;
  // Discovery: answered in whichever framing it arrives (ipmitool uses 2.0, the spec allows 1.5 too).
  if (req.cmd === Cmd.GetChannelCipherSuites) return true;
  // Activate Session arrives under the temporary session ID from the challenge, so never sessionless.
  if (req.cmd === Cmd.GetSessionChallenge) return v15 && allowV15;
  return false;
}
