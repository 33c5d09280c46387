// IPMI v1.5 LAN session header (IPMI 2.0 §13.6, table 13-8). Used sessionless (auth type none, session 0)
// for Get Channel Authentication Capabilities by every v2.0 client, and for v1.5 sessions when enabled.
import { CodecError, concatBytes, need, putU32le, u32le } from './errors.ts';

export const AuthType = { None: 0x00, Md2: 0x01, Md5: 0x02, Password: 0x04, Oem: 0x05, RmcpPlus: 0x06 } as const;

export interface Session15Packet {
  authType: number;
  sequence: number;
  sessionId: number;
  /** 16 bytes when authType is not none. */
  authCode: Uint8Array | undefined;
  message: Uint8Array;
}

export function decodeSession15(body: Uint8Array): Session15Packet {
  need(body, 10, 'IPMI 1.5 session header');
  const authType = (body[0] ?? 0) & 0x0f;
  if (authType === AuthType.RmcpPlus) throw new CodecError('session-format', 'auth type 6 is an IPMI 2.0 header');
  const sequence = u32le(body, 1);
  const sessionId = u32le(body, 5);
  let at = 9;
  let authCode: Uint8Array | undefined;
  if (authType !== AuthType.None) {
    need(body, at + 17, 'IPMI 1.5 auth code');
    authCode = body.subarray(at, at + 16);
    at += 16;
  }
  const length = body[at] ?? 0;
  at += 1;
  need(body, at + length, 'IPMI 1.5 message');
  // Some clients append a legacy pad byte; anything beyond that is malformed.
  if (body.length > at + length + 1) throw new CodecError('trailing-bytes', 'bytes after the IPMI 1.5 message');
  return { authType, sequence, sessionId, authCode, message: body.subarray(at, at + length) };
}

export function encodeSession15(p: {
  authType: number;
  sequence: number;
  sessionId: number;
  authCode?: Uint8Array;
  message: Uint8Array;
}): Uint8Array {
  if (p.message.length > 255) throw new CodecError('too-long', 'IPMI 1.5 message longer than 255 bytes');
  const head = new Uint8Array(9);
  head[0] = p.authType;
  putU32le(head, 1, p.sequence);
  putU32le(head, 5, p.sessionId);
  const code = p.authType === AuthType.None ? new Uint8Array(0) : (p.authCode ?? new Uint8Array(16));
  if (code.length !== 0 && code.length !== 16) throw new CodecError('auth-code', 'IPMI 1.5 auth code must be 16 bytes');
  return concatBytes(head, code, Uint8Array.of(p.message.length), p.message);
}
