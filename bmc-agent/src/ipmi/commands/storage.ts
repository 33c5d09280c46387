// Storage netFn (0Ah): FRU inventory (section 34), SDR repository (section 33) and SEL (section 31).
import pkg from '../../../../package.json' with { type: 'json' };
import { Privilege } from '../../bmc/types.ts';
import { CompletionCode } from '../types.ts';
import { byteAt, fail, ok, readU16le, u16le, u32le } from './bytes.ts';
import { fruImage } from './fru.ts';
import type { Runtime } from './runtime.ts';
import { SEL_RECORD_SIZE } from './sel.ts';
import { fullSensorRecord, SENSORS } from './sensors.ts';
import { type CommandSpec, command, NetFn } from './table.ts';

const SDR_VERSION = 0x51;
/** Largest FRU or SDR slice returned at once, so answers fit any transport's message size. */
const MAX_READ = 64;

export function sdrRecords(): number[][] {
  return SENSORS.map((sensor, i) => fullSensorRecord(i + 1, sensor));
}

/** Record ID 0 is "first"; 0xFFFF "last". */
function findRecord(records: number[][], id: number): { index: number; record: number[] } | undefined {
  const index =
    id === 0
      ? 0
      : id === 0xffff
        ? records.length - 1
        : records.findIndex((r) => readU16le(Uint8Array.from(r), 0) === id);
  const record = records[index];
  return record ? { index, record } : undefined;
}

export function storageCommands(rt: Runtime): CommandSpec[] {
  const storage = { netFn: NetFn.Storage };
  const sel = rt.sel;
  return [
    // FRU device 0: the VM's inventory.
    command(
      { ...storage, cmd: 0x10, name: 'Get FRU Inventory Area Info', privilege: Privilege.User, length: 1 },
      (req, ctx) => {
        if (byteAt(req.data, 0) !== 0) return fail(CompletionCode.NotPresent);
        const size = fruImage({ uuid: ctx.machine.info.uuid, version: pkg.version }).length;
        return ok([...u16le(size), 0x00]); // accessed by bytes
      },
    ),
    command({ ...storage, cmd: 0x11, name: 'Read FRU Data', privilege: Privilege.User, length: 4 }, (req, ctx) => {
      if (byteAt(req.data, 0) !== 0) return fail(CompletionCode.NotPresent);
      const image = fruImage({ uuid: ctx.machine.info.uuid, version: pkg.version });
      const offset = readU16le(req.data, 1);
      const count = byteAt(req.data, 3);
      if (offset >= image.length) return fail(CompletionCode.ParameterOutOfRange);
      if (count > MAX_READ) return fail(CompletionCode.CannotReturnRequestedBytes);
      const slice = image.subarray(offset, offset + count);
      return ok([slice.length, ...slice]);
    }),

    // SDR repository: one Full Sensor Record per sensor.
    command({ ...storage, cmd: 0x20, name: 'Get SDR Repository Info', privilege: Privilege.User, length: 0 }, () =>
      ok([
        SDR_VERSION,
        ...u16le(SENSORS.length),
        ...u16le(0), // no free space: the repository is fixed
        ...u32le(0), // most recent addition: at startup
        ...u32le(0), // most recent erase: never
        0x02, // Reserve SDR Repository supported; no modal update, no delete
      ]),
    ),
    command({ ...storage, cmd: 0x22, name: 'Reserve SDR Repository', privilege: Privilege.User, length: 0 }, () => {
      rt.sdrReservation = (rt.sdrReservation % 0xffff) + 1;
      return ok(u16le(rt.sdrReservation));
    }),
    command({ ...storage, cmd: 0x23, name: 'Get SDR', privilege: Privilege.User, length: 6 }, (req) => {
      const reservation = readU16le(req.data, 0);
      const id = readU16le(req.data, 2);
      const offset = byteAt(req.data, 4);
      const count = byteAt(req.data, 5);
      // Partial reads need the current reservation (a changed repository would give torn records).
      if (offset !== 0 && (reservation === 0 || reservation !== rt.sdrReservation))
        return fail(CompletionCode.ReservationCancelled);
      const records = sdrRecords();
      const found = findRecord(records, id);
      if (!found) return fail(CompletionCode.NotPresent);
      if (offset >= found.record.length) return fail(CompletionCode.ParameterOutOfRange);
      const next =
        found.index + 1 < records.length ? readU16le(Uint8Array.from(records[found.index + 1] ?? []), 0) : 0xffff;
      const slice = found.record.slice(offset, count === 0xff ? undefined : offset + count);
      return ok([...u16le(next), ...slice]);
    }),

    // System Event Log.
    command({ ...storage, cmd: 0x40, name: 'Get SEL Info', privilege: Privilege.User, length: 0 }, () =>
      ok([
        SDR_VERSION,
        ...u16le(sel.list().length),
        ...u16le(sel.freeBytes()),
        ...u32le(sel.lastAddition),
        ...u32le(sel.lastErase),
        (sel.overflow ? 0x80 : 0) | 0x08 | 0x02, // delete and reserve supported
      ]),
    ),
    command({ ...storage, cmd: 0x42, name: 'Reserve SEL', privilege: Privilege.User, length: 0 }, () =>
      ok(u16le(sel.reserve())),
    ),
    command({ ...storage, cmd: 0x43, name: 'Get SEL Entry', privilege: Privilege.User, length: 6 }, (req) => {
      const reservation = readU16le(req.data, 0);
      const id = readU16le(req.data, 2);
      const offset = byteAt(req.data, 4);
      const count = byteAt(req.data, 5);
      if (offset !== 0 && !sel.reservationValid(reservation)) return fail(CompletionCode.ReservationCancelled);
      if (offset >= SEL_RECORD_SIZE) return fail(CompletionCode.ParameterOutOfRange);
      const found = sel.find(id);
      if (!found) return fail(CompletionCode.NotPresent);
      const slice = found.entry.bytes.subarray(offset, count === 0xff ? undefined : offset + count);
      return ok([...u16le(found.next), ...slice]);
    }),
    command({ ...storage, cmd: 0x44, name: 'Add SEL Entry', privilege: Privilege.Operator, length: 16 }, (req) =>
      ok(u16le(sel.add(req.data))),
    ),
    command({ ...storage, cmd: 0x46, name: 'Delete SEL Entry', privilege: Privilege.Operator, length: 4 }, (req) => {
      const reservation = readU16le(req.data, 0);
      if (reservation !== 0 && !sel.reservationValid(reservation)) return fail(CompletionCode.ReservationCancelled);
      const deleted = sel.delete(readU16le(req.data, 2));
      return deleted === undefined ? fail(CompletionCode.NotPresent) : ok(u16le(deleted));
    }),
    command({ ...storage, cmd: 0x47, name: 'Clear SEL', privilege: Privilege.Operator, length: 6 }, (req) => {
      if (!sel.reservationValid(readU16le(req.data, 0))) return fail(CompletionCode.ReservationCancelled);
      if (req.data[2] !== 0x43 || req.data[3] !== 0x4c || req.data[4] !== 0x52)
        return fail(CompletionCode.InvalidDataField);
      const action = byteAt(req.data, 5);
      if (action === 0xaa) sel.clear();
      else if (action !== 0x00) return fail(CompletionCode.InvalidDataField);
      return ok([0x01]); // erasure completed
    }),
    command({ ...storage, cmd: 0x48, name: 'Get SEL Time', privilege: Privilege.User, length: 0 }, () =>
      ok(u32le(rt.nowSeconds())),
    ),
  ];
}
