// FRU inventory of FRU device 0 (Platform Management FRU Information Storage Definition v1.0): common header,
// chassis, board and product info areas, each padded to 8 bytes and zero-checksummed.
import { zeroChecksum } from './bytes.ts';

export interface FruIdentity {
  uuid: string;
  version: string;
}

const ENGLISH = 0x00;
const CHASSIS_TYPE_OTHER = 0x01;
const END_OF_FIELDS = 0xc1;

/** A type/length byte (8-bit ASCII + Latin 1) and the text; a 1-byte text would read as C1h, so it gets a space. */
function field(text: string): number[] {
  let bytes = Array.from(Buffer.from(text, 'latin1').subarray(0, 63));
  if (bytes.length === 1) bytes = [...bytes, 0x20];
  return [0xc0 | bytes.length, ...bytes];
}

/** An info area: version 1, length in 8-byte units, the fields, end marker, padding, checksum. */
function area(head: number[], fields: string[]): number[] {
  const body = [...head, ...fields.flatMap(field), END_OF_FIELDS];
  const size = Math.ceil((body.length + 2 + 1) / 8) * 8; // + version/length bytes + checksum
  const bytes = [0x01, size / 8, ...body];
  while (bytes.length < size - 1) bytes.push(0);
  bytes.push(zeroChecksum(bytes));
  return bytes;
}

export function fruImage(id: FruIdentity): Uint8Array {
  const serial = id.uuid.replaceAll('-', '').toUpperCase();
  const chassis = area([CHASSIS_TYPE_OTHER], ['qemu-bmc', serial]);
  const board = area(
    [ENGLISH, 0, 0, 0], // manufacturing date unspecified
    ['QEMU', 'QEMU Virtual Board', serial, 'qemu-bmc', ''],
  );
  const product = area([ENGLISH], ['QEMU', 'QEMU Virtual Machine', 'qemu-bmc', id.version, serial, '', '']);
  const chassisOffset = 1; // in 8-byte units, right after the 8-byte header
  const boardOffset = chassisOffset + chassis.length / 8;
  const productOffset = boardOffset + board.length / 8;
  const header = [0x01, 0, chassisOffset, boardOffset, productOffset, 0, 0];
  header.push(zeroChecksum(header));
  return Uint8Array.from([...header, ...chassis, ...board, ...product]);
}
