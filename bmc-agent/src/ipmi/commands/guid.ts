// GUID byte orders. ipmitool's `mc guid` auto-detection gives the SMBIOS encoding precedence, and dmidecode inside
// the guest reads the same layout, so the System GUID is sent SMBIOS-encoded and prints as the VM's UUID string.
import { createHash } from 'node:crypto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function rfcBytes(uuid: string): number[] {
  if (!UUID.test(uuid)) throw new Error(`not a UUID: ${uuid}`);
  return Array.from(Buffer.from(uuid.replaceAll('-', ''), 'hex'));
}

/** SMBIOS 2.6+ order: time_low, time_mid, time_hi little-endian; clock sequence and node as written. */
export function smbiosGuidBytes(uuid: string): number[] {
  const b = rfcBytes(uuid);
  return [b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], ...b.slice(8)].map((x) => x ?? 0);
}

/** Inverse of smbiosGuidBytes, for tests and logs. */
export function uuidFromSmbiosGuid(bytes: Uint8Array): string {
  const b = Array.from(bytes);
  const rfc = [b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], ...b.slice(8, 16)].map((x) => x ?? 0);
  const h = Buffer.from(rfc).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A stable name-based (version 5) UUID for the BMC itself, distinct from the system's. */
export function deviceUuid(systemUuid: string): string {
  const digest = createHash('sha1').update(`qemu-bmc device ${systemUuid.toLowerCase()}`).digest();
  const b = digest.subarray(0, 16);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x50;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
