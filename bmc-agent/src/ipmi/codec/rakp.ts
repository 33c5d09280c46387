// RMCP+ session establishment payloads (IPMI 2.0 §13.17–13.23): Open Session Request/Response and RAKP 1–4.
import { CodecError, concatBytes, need, putU32le, u32le } from './errors.ts';

/** RMCP+ status codes (IPMI 2.0 table 13-15). */
export const RakpStatus = {
  Ok: 0x00,
  InsufficientResources: 0x01,
  InvalidSessionId: 0x02,
  InvalidPayloadType: 0x03,
  InvalidAuthAlgorithm: 0x04,
  InvalidIntegrityAlgorithm: 0x05,
  NoMatchingAuthPayload: 0x06,
  NoMatchingIntegrityPayload: 0x07,
  InactiveSessionId: 0x08,
  InvalidRole: 0x09,
  UnauthorizedRole: 0x0a,
  InsufficientResourcesForRole: 0x0b,
  InvalidNameLength: 0x0c,
  UnauthorizedName: 0x0d,
  UnauthorizedGuid: 0x0e,
  InvalidIntegrityCheckValue: 0x0f,
  InvalidConfidentialityAlgorithm: 0x10,
  NoCipherSuiteMatch: 0x11,
  IllegalParameter: 0x12,
} as const;

export interface AlgorithmProposal {
  auth: number | undefined; // undefined: the console left the choice to the BMC (payload length 0)
  integrity: number | undefined;
  confidentiality: number | undefined;
}

export interface OpenSessionRequest extends AlgorithmProposal {
  tag: number;
  requestedPrivilege: number; // 0 = highest level matching the proposed algorithms
  consoleSessionId: number;
}

export interface OpenSessionResponse {
  tag: number;
  status: number;
  maxPrivilege: number;
  consoleSessionId: number;
  bmcSessionId: number;
  auth: number;
  integrity: number;
  confidentiality: number;
}

export interface Rakp1 {
  tag: number;
  bmcSessionId: number;
  consoleRandom: Uint8Array; // Rm, 16 bytes
  role: number; // the whole byte: bit 4 name-only lookup, bits 3:0 privilege
  userName: Uint8Array; // 0..16 bytes
}

export interface Rakp2 {
  tag: number;
  status: number;
  consoleSessionId: number;
  bmcRandom: Uint8Array; // Rc
  bmcGuid: Uint8Array;
  authCode: Uint8Array;
}

export interface Rakp3 {
  tag: number;
  status: number;
  bmcSessionId: number;
  authCode: Uint8Array;
}

export interface Rakp4 {
  tag: number;
  status: number;
  consoleSessionId: number;
  integrityCheck: Uint8Array;
}

const RECORD_TYPES = [0x00, 0x01, 0x02] as const;

function decodeAlgorithmRecord(bytes: Uint8Array, offset: number, type: number): number | undefined {
  if (bytes[offset] !== type)
    throw new CodecError('algorithm-record', `algorithm record ${type} has type ${bytes[offset]}`);
  const length = bytes[offset + 3];
  if (length === 0) return undefined;
  if (length !== 8) throw new CodecError('algorithm-record', `algorithm record length ${length} is not 8`);
  return (bytes[offset + 4] ?? 0) & 0x3f;
}

function encodeAlgorithmRecord(type: number, algorithm: number | undefined): Uint8Array {
  if (algorithm === undefined) return Uint8Array.of(type, 0, 0, 0, 0, 0, 0, 0);
  return Uint8Array.of(type, 0, 0, 8, algorithm & 0x3f, 0, 0, 0);
}

function u32(value: number): Uint8Array {
  const b = new Uint8Array(4);
  putU32le(b, 0, value);
  return b;
}

export function decodeOpenSessionRequest(p: Uint8Array): OpenSessionRequest {
  need(p, 32, 'Open Session Request');
  if (p.length !== 32) throw new CodecError('length', 'Open Session Request must be 32 bytes');
  return {
    tag: p[0] ?? 0,
    requestedPrivilege: (p[1] ?? 0) & 0x0f,
    consoleSessionId: u32le(p, 4),
    auth: decodeAlgorithmRecord(p, 8, RECORD_TYPES[0]),
    integrity: decodeAlgorithmRecord(p, 16, RECORD_TYPES[1]),
    confidentiality: decodeAlgorithmRecord(p, 24, RECORD_TYPES[2]),
  };
}

export function encodeOpenSessionRequest(r: OpenSessionRequest): Uint8Array {
  return concatBytes(
    Uint8Array.of(r.tag, r.requestedPrivilege & 0x0f, 0, 0),
    u32(r.consoleSessionId),
    encodeAlgorithmRecord(0x00, r.auth),
    encodeAlgorithmRecord(0x01, r.integrity),
    encodeAlgorithmRecord(0x02, r.confidentiality),
  );
}

/** Error responses carry only tag, status and the console's session ID (IPMI 2.0 table 13-10). */
export function encodeOpenSessionResponse(r: OpenSessionResponse): Uint8Array {
  const head = concatBytes(
    Uint8Array.of(r.tag, r.status, r.status === 0 ? r.maxPrivilege : 0, 0),
    u32(r.consoleSessionId),
  );
  if (r.status !== 0) return head;
  return concatBytes(
    head,
    u32(r.bmcSessionId),
    encodeAlgorithmRecord(0x00, r.auth),
    encodeAlgorithmRecord(0x01, r.integrity),
    encodeAlgorithmRecord(0x02, r.confidentiality),
  );
}

export function decodeOpenSessionResponse(p: Uint8Array): OpenSessionResponse {
  need(p, 8, 'Open Session Response');
  const status = p[1] ?? 0;
  if (status !== 0) {
    return {
      tag: p[0] ?? 0,
      status,
      maxPrivilege: 0,
      consoleSessionId: u32le(p, 4),
      bmcSessionId: 0,
      auth: 0,
      integrity: 0,
      confidentiality: 0,
    };
  }
  need(p, 36, 'Open Session Response');
  return {
    tag: p[0] ?? 0,
    status,
    maxPrivilege: (p[2] ?? 0) & 0x0f,
    consoleSessionId: u32le(p, 4),
    bmcSessionId: u32le(p, 8),
    auth: decodeAlgorithmRecord(p, 12, 0) ?? 0,
    integrity: decodeAlgorithmRecord(p, 20, 1) ?? 0,
    confidentiality: decodeAlgorithmRecord(p, 28, 2) ?? 0,
  };
}

export const MAX_USER_NAME_LENGTH = 16;

export function decodeRakp1(p: Uint8Array): Rakp1 {
  need(p, 28, 'RAKP Message 1');
  const nameLength = p[27] ?? 0;
  if (nameLength > MAX_USER_NAME_LENGTH)
    throw new CodecError('name-length', `user name length ${nameLength} exceeds 16`);
  if (p.length !== 28 + nameLength)
    throw new CodecError('length', 'RAKP Message 1 length does not match its name length');
  return {
    tag: p[0] ?? 0,
    bmcSessionId: u32le(p, 4),
    consoleRandom: p.slice(8, 24),
    role: p[24] ?? 0,
    userName: p.slice(28, 28 + nameLength),
  };
}

export function encodeRakp1(r: Rakp1): Uint8Array {
  return concatBytes(
    Uint8Array.of(r.tag, 0, 0, 0),
    u32(r.bmcSessionId),
    r.consoleRandom,
    Uint8Array.of(r.role, 0, 0, r.userName.length),
    r.userName,
  );
}

export function encodeRakp2(r: Rakp2): Uint8Array {
  const head = concatBytes(Uint8Array.of(r.tag, r.status, 0, 0), u32(r.consoleSessionId));
  if (r.status !== 0) return head;
  return concatBytes(head, r.bmcRandom, r.bmcGuid, r.authCode);
}

export function decodeRakp2(p: Uint8Array): Rakp2 {
  need(p, 8, 'RAKP Message 2');
  const status = p[1] ?? 0;
  const base = { tag: p[0] ?? 0, status, consoleSessionId: u32le(p, 4) };
  if (status !== 0)
    return { ...base, bmcRandom: new Uint8Array(0), bmcGuid: new Uint8Array(0), authCode: new Uint8Array(0) };
  need(p, 40, 'RAKP Message 2');
  return { ...base, bmcRandom: p.slice(8, 24), bmcGuid: p.slice(24, 40), authCode: p.slice(40) };
}

export function decodeRakp3(p: Uint8Array): Rakp3 {
  need(p, 8, 'RAKP Message 3');
  return { tag: p[0] ?? 0, status: p[1] ?? 0, bmcSessionId: u32le(p, 4), authCode: p.slice(8) };
}

export function encodeRakp3(r: Rakp3): Uint8Array {
  return concatBytes(Uint8Array.of(r.tag, r.status, 0, 0), u32(r.bmcSessionId), r.authCode);
}

export function encodeRakp4(r: Rakp4): Uint8Array {
  const head = concatBytes(Uint8Array.of(r.tag, r.status, 0, 0), u32(r.consoleSessionId));
  if (r.status !== 0) return head;
  return concatBytes(head, r.integrityCheck);
}

export function decodeRakp4(p: Uint8Array): Rakp4 {
  need(p, 8, 'RAKP Message 4');
  return { tag: p[0] ?? 0, status: p[1] ?? 0, consoleSessionId: u32le(p, 4), integrityCheck: p.slice(8) };
}
