import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CompletionCode } from '../../../../bmc-agent/src/ipmi/types.ts';
import { type Bench, bench, NETFN, okData, UUID } from './support.ts';

const u16 = (d: number[], i: number) => (d[i] ?? 0) | ((d[i + 1] ?? 0) << 8);

describe('Storage netFn: SDR repository and sensors (sections 33, 35, table 43-1)', () => {
  let b: Bench;
  beforeEach(async () => {
    b = await bench();
  });
  afterEach(() => b.cleanup());

  /** Walks the repository the way ipmitool does: header first, then the rest under a reservation. */
  async function walk(): Promise<number[][]> {
    const reservation = okData(await b.lan(NETFN.Storage, 0x22));
    const records: number[][] = [];
    let id = 0;
    for (let guard = 0; guard < 100 && id !== 0xffff; guard++) {
      const head = okData(await b.lan(NETFN.Storage, 0x23, [...reservation, id & 0xff, id >> 8, 0, 5]));
      const length = head[6]!;
      const rest = okData(await b.lan(NETFN.Storage, 0x23, [...reservation, id & 0xff, id >> 8, 5, length]));
      records.push([...head.slice(2), ...rest.slice(2)]);
      id = u16(head, 0);
    }
    return records;
  }

  it('Get SDR Repository Info counts the records (table 33-3)', async () => {
    const d = okData(await b.lan(NETFN.Storage, 0x20));
    expect(d[0]).toBe(0x51);
    expect(u16(d, 1)).toBe((await walk()).length);
    expect(d[13]! & 0x02).toBe(0x02);
  });

  it('every record is a well-formed Full Sensor Record with a readable sensor', async () => {
    const records = await walk();
    expect(records.length).toBeGreaterThanOrEqual(4);
    const names: string[] = [];
    for (const r of records) {
      expect(r[2]).toBe(0x51);
      expect(r[3]).toBe(0x01);
      expect(r.length).toBe(5 + r[4]!);
      const idLength = r[47]! & 0x1f;
      expect(r[47]! & 0xc0).toBe(0xc0);
      names.push(Buffer.from(r.slice(48, 48 + idLength)).toString('latin1'));
      const reading = okData(await b.lan(NETFN.Sensor, 0x2d, [r[7]!]));
      expect(reading[1]! & 0x20).toBe(0); // reading available
    }
    expect(names).toEqual(['Inlet Temp', 'System Power', 'VM vCPUs', 'VM Memory']);
  });

  it('readings come from the VM: vCPUs, memory in 0.25 GB steps, power unit "power off" state', async () => {
    const records = await walk();
    const sensor = (name: string) => records.find((r) => Buffer.from(r.slice(48)).toString('latin1') === name)![7]!;
    expect(okData(await b.lan(NETFN.Sensor, 0x2d, [sensor('VM vCPUs')]))[0]).toBe(4);
    expect(okData(await b.lan(NETFN.Sensor, 0x2d, [sensor('VM Memory')]))[0]).toBe(24); // 6 GiB
    expect(okData(await b.lan(NETFN.Sensor, 0x2d, [sensor('System Power')]))[2]).toBe(0x01);
    b.machine.setPower('On');
    expect(okData(await b.lan(NETFN.Sensor, 0x2d, [sensor('System Power')]))[2]).toBe(0x00);
    const temp = okData(await b.lan(NETFN.Sensor, 0x2d, [sensor('Inlet Temp')]));
    expect(temp).toEqual([23, 0xc0, 0xc0]); // no threshold crossed
  });

  it('Get Sensor Thresholds returns the readable mask and values (table 35-9); discrete sensors answer CDh', async () => {
    expect(okData(await b.lan(NETFN.Sensor, 0x27, [0x01]))).toEqual([0x38, 0, 0, 0, 40, 45, 50]);
    expect((await b.lan(NETFN.Sensor, 0x27, [0x02])).cc).toBe(CompletionCode.IllegalForSensorOrRecord);
    expect((await b.lan(NETFN.Sensor, 0x2d, [0x77])).cc).toBe(CompletionCode.NotPresent);
  });

  it('a partial Get SDR needs the current reservation (C5h otherwise); unknown records answer CBh', async () => {
    expect((await b.lan(NETFN.Storage, 0x23, [0x00, 0x00, 0x01, 0x00, 5, 10])).cc).toBe(
      CompletionCode.ReservationCancelled,
    );
    expect((await b.lan(NETFN.Storage, 0x23, [0x00, 0x00, 0x44, 0x00, 0, 0xff])).cc).toBe(CompletionCode.NotPresent);
  });
});

describe('Storage netFn: SEL (section 31)', () => {
  let b: Bench;
  beforeEach(async () => {
    b = await bench();
  });
  afterEach(() => b.cleanup());

  it('power changes of the machine are logged as Power Unit events; Get SEL Entry walks them (table 31-5, 32-1)', async () => {
    await b.inband(NETFN.App, 0x01); // first dispatch attaches to the machine
    b.machine.setPower('On');
    b.machine.setPower('PoweringOff'); // transitional states are not events
    b.machine.setPower('Off');
    const info = okData(await b.lan(NETFN.Storage, 0x40));
    expect(info[0]).toBe(0x51);
    expect(u16(info, 1)).toBe(2);
    const first = okData(await b.lan(NETFN.Storage, 0x43, [0, 0, 0, 0, 0, 0xff]));
    expect(first).toHaveLength(18);
    const record = first.slice(2);
    expect(record[2]).toBe(0x02); // system event record
    expect(record.slice(7, 10)).toEqual([0x20, 0x00, 0x04]); // BMC generator, EvM rev 4
    expect(record[10]).toBe(0x09); // Power Unit
    expect(record[12]).toBe(0x80 | 0x6f); // deassertion of "power off"
    const second = okData(await b.lan(NETFN.Storage, 0x43, [0, 0, first[0]!, first[1]!, 0, 0xff]));
    expect(u16(second, 0)).toBe(0xffff);
    expect(second[2 + 12]).toBe(0x6f); // assertion
  });

  it('Clear SEL needs the reservation and "CLR"; Add and Delete SEL Entry work', async () => {
    const added = okData(
      await b.lan(NETFN.Storage, 0x44, [0, 0, 0x02, 0, 0, 0, 0, 0x41, 0, 0x04, 0x01, 0x30, 0x01, 0x07, 0xff, 0xff]),
    );
    expect(u16(added, 0)).toBeGreaterThan(0);
    const entry = okData(await b.lan(NETFN.Storage, 0x43, [0, 0, added[0]!, added[1]!, 0, 0xff])).slice(2);
    expect(entry.slice(3, 7)).not.toEqual([0, 0, 0, 0]); // the BMC stamps the time
    const stale = [0x34, 0x12];
    expect((await b.lan(NETFN.Storage, 0x47, [...stale, 0x43, 0x4c, 0x52, 0xaa])).cc).toBe(
      CompletionCode.ReservationCancelled,
    );
    const reservation = okData(await b.lan(NETFN.Storage, 0x42));
    expect((await b.lan(NETFN.Storage, 0x47, [...reservation, 0x43, 0x4c, 0x51, 0xaa])).cc).toBe(
      CompletionCode.InvalidDataField,
    );
    expect(u16(okData(await b.lan(NETFN.Storage, 0x40)), 1)).toBe(1);
    expect(okData(await b.lan(NETFN.Storage, 0x47, [...reservation, 0x43, 0x4c, 0x52, 0xaa]))).toEqual([0x01]);
    expect(u16(okData(await b.lan(NETFN.Storage, 0x40)), 1)).toBe(0);
    expect((await b.lan(NETFN.Storage, 0x43, [0, 0, 0, 0, 0, 0xff])).cc).toBe(CompletionCode.NotPresent);
    const again = okData(await b.lan(NETFN.Storage, 0x44, new Array(16).fill(0x02)));
    expect(okData(await b.lan(NETFN.Storage, 0x46, [0, 0, again[0]!, again[1]!]))).toEqual(again);
  });

  it('Get SEL Time is the BMC clock in seconds', async () => {
    const local = await bench({ now: () => 1_700_000_000_500 });
    try {
      expect(u16(okData(await local.lan(NETFN.Storage, 0x48)), 0)).toBe(1_700_000_000 & 0xffff);
    } finally {
      await local.cleanup();
    }
  });
});

describe('Storage netFn: FRU inventory (Platform Management FRU Information Storage Definition)', () => {
  let b: Bench;
  beforeEach(async () => {
    b = await bench();
  });
  afterEach(() => b.cleanup());

  async function readFru(): Promise<number[]> {
    const info = okData(await b.lan(NETFN.Storage, 0x10, [0]));
    const size = u16(info, 0);
    const image: number[] = [];
    for (let offset = 0; offset < size; ) {
      const d = okData(await b.lan(NETFN.Storage, 0x11, [0, offset & 0xff, offset >> 8, 16]));
      expect(d[0]).toBe(d.length - 1);
      image.push(...d.slice(1));
      offset += d[0]!;
    }
    return image;
  }

  function fields(area: number[], skip: number): string[] {
    const out: string[] = [];
    let i = skip;
    while (area[i] !== 0xc1 && i < area.length) {
      const len = area[i]! & 0x3f;
      out.push(Buffer.from(area.slice(i + 1, i + 1 + len)).toString('latin1'));
      i += 1 + len;
    }
    return out;
  }

  const sum = (bytes: number[]) => bytes.reduce((a, c) => a + c, 0) & 0xff;

  it('header and every area checksum to zero; product is "QEMU Virtual Machine" with the UUID as serial', async () => {
    const image = await readFru();
    expect(sum(image.slice(0, 8))).toBe(0);
    expect(image[0]).toBe(0x01);
    const serial = UUID.replaceAll('-', '').toUpperCase();
    const area = (index: number) => {
      const start = image[index]! * 8;
      const bytes = image.slice(start, start + image[start + 1]! * 8);
      expect(sum(bytes)).toBe(0);
      return bytes;
    };
    expect(fields(area(2), 3)).toEqual(['qemu-bmc', serial]);
    expect(fields(area(3), 6)).toEqual(['QEMU', 'QEMU Virtual Board', serial, 'qemu-bmc', '']);
    const product = fields(area(4), 3);
    expect(product.slice(0, 2)).toEqual(['QEMU', 'QEMU Virtual Machine']);
    expect(product[4]).toBe(serial);
  });

  it('only FRU device 0 exists (CBh); reads past the end answer C9h; oversized reads CAh', async () => {
    expect((await b.lan(NETFN.Storage, 0x10, [1])).cc).toBe(CompletionCode.NotPresent);
    expect((await b.lan(NETFN.Storage, 0x11, [0, 0xff, 0x0f, 8])).cc).toBe(CompletionCode.ParameterOutOfRange);
    expect((await b.lan(NETFN.Storage, 0x11, [0, 0, 0, 200])).cc).toBe(CompletionCode.CannotReturnRequestedBytes);
  });
});
