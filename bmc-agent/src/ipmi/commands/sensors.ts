// The BMC's sensors, read from the VM where there is something real to read, and their Full Sensor Records
// (SDR type 01h, IPMI 2.0 table 43-1) in the SDR repository.
import type { Machine } from '../../machine/types.ts';
import { u16le } from './bytes.ts';
import { poweredOn } from './chassis.ts';

export const BMC_ADDRESS = 0x20;

/** Threshold values in raw reading units; only the ones present are readable. */
export interface Thresholds {
  lnc?: number;
  lcr?: number;
  lnr?: number;
  unc?: number;
  ucr?: number;
  unr?: number;
}

interface SensorBase {
  number: number;
  name: string; // at most 16 bytes
  entityId: number;
  sensorType: number;
}

export interface ThresholdSensor extends SensorBase {
  kind: 'threshold';
  baseUnit: number; // table 43-15
  /** reading = raw * m * 10^rExp */
  m: number;
  rExp: number;
  thresholds: Thresholds;
  read(machine: Machine): number;
}

export interface DiscreteSensor extends SensorBase {
  kind: 'discrete';
  readingType: number; // event/reading type code (table 42-1/42-2)
  /** Offsets this sensor can assert (bit n = offset n). */
  states: number;
  read(machine: Machine): number;
}

export type Sensor = ThresholdSensor | DiscreteSensor;

export const SENSOR_TYPE = { Temperature: 0x01, PowerUnit: 0x09, OtherUnits: 0x0b } as const;
const UNIT = { Unspecified: 0, DegreesC: 1, Gigabyte: 73 } as const;
const ENTITY = { Processor: 0x03, PowerUnit: 0x0a, SystemBoard: 0x07, MemoryModule: 0x20, AirInlet: 0x37 } as const;

/** Power Unit (sensor type 09h) sensor-specific offset 0: "Power Off / Power Down". */
export const POWER_OFF_OFFSET = 0;

export const SENSORS: readonly Sensor[] = [
  {
    kind: 'threshold',
    number: 0x01,
    name: 'Inlet Temp',
    entityId: ENTITY.AirInlet,
    sensorType: SENSOR_TYPE.Temperature,
    baseUnit: UNIT.DegreesC,
    m: 1,
    rExp: 0,
    thresholds: { unc: 40, ucr: 45, unr: 50 },
    // A VM has no inlet; a fixed room temperature keeps monitoring that expects one quiet.
    read: () => 23,
  },
  {
    kind: 'discrete',
    number: 0x02,
    name: 'System Power',
    entityId: ENTITY.PowerUnit,
    sensorType: SENSOR_TYPE.PowerUnit,
    readingType: 0x6f, // sensor-specific
    states: 1 << POWER_OFF_OFFSET,
    read: (machine) => (poweredOn(machine.powerState()) ? 0 : 1 << POWER_OFF_OFFSET),
  },
  {
    kind: 'threshold',
    number: 0x03,
    name: 'VM vCPUs',
    entityId: ENTITY.Processor,
    sensorType: SENSOR_TYPE.OtherUnits,
    baseUnit: UNIT.Unspecified,
    m: 1,
    rExp: 0,
    thresholds: {},
    read: (machine) => Math.min(0xff, machine.info.cpus),
  },
  {
    kind: 'threshold',
    number: 0x04,
    name: 'VM Memory',
    entityId: ENTITY.MemoryModule,
    sensorType: SENSOR_TYPE.OtherUnits,
    baseUnit: UNIT.Gigabyte,
    m: 25,
    rExp: -2, // 0.25 GB steps, up to 63.75 GB
    thresholds: {},
    read: (machine) => Math.min(0xff, Math.round((machine.info.memoryMiB / 1024) * 4)),
  },
];

const THRESHOLD_ORDER = ['lnc', 'lcr', 'lnr', 'unc', 'ucr', 'unr'] as const;

/** Readable threshold mask: bit 0 LNC .. bit 5 UNR. */
export function thresholdMask(t: Thresholds): number {
  return THRESHOLD_ORDER.reduce((mask, key, bit) => (t[key] !== undefined ? mask | (1 << bit) : mask), 0);
}

/** Threshold comparison status of Get Sensor Reading byte 3 (bits 7:6 read as 1). */
export function thresholdStatus(raw: number, t: Thresholds): number {
  let status = 0xc0;
  if (t.lnc !== undefined && raw <= t.lnc) status |= 0x01;
  if (t.lcr !== undefined && raw <= t.lcr) status |= 0x02;
  if (t.lnr !== undefined && raw <= t.lnr) status |= 0x04;
  if (t.unc !== undefined && raw >= t.unc) status |= 0x08;
  if (t.ucr !== undefined && raw >= t.ucr) status |= 0x10;
  if (t.unr !== undefined && raw >= t.unr) status |= 0x20;
  return status;
}

/** Get Sensor Thresholds response: mask then LNC, LCR, LNR, UNC, UCR, UNR. */
export function thresholdBytes(t: Thresholds): number[] {
  return [thresholdMask(t), ...THRESHOLD_ORDER.map((key) => t[key] ?? 0)];
}

function nibble(n: number): number {
  return n & 0x0f; // 4-bit two's complement
}

/** Full Sensor Record for `sensor` with record ID `id`. */
export function fullSensorRecord(id: number, sensor: Sensor): number[] {
  const name = Buffer.from(sensor.name, 'latin1').subarray(0, 16);
  const threshold = sensor.kind === 'threshold';
  const mask = threshold ? thresholdMask(sensor.thresholds) : 0;
  const states = threshold ? 0 : sensor.states;
  const t: Thresholds = threshold ? sensor.thresholds : {};
  const m = threshold ? sensor.m : 0;
  const body = [
    BMC_ADDRESS, // sensor owner: the BMC
    0x00, // owner LUN 0, channel 0
    sensor.number,
    sensor.entityId,
    0x01, // entity instance 1, physical
    0x03, // initialisation: events and scanning enabled
    threshold ? (mask ? 0x47 : 0x43) : 0x43, // auto re-arm, thresholds readable (if any), no event messages
    sensor.sensorType,
    threshold ? 0x01 : sensor.readingType,
    ...u16le(states), // assertion event mask / lower threshold reading mask
    ...u16le(states), // deassertion event mask / upper threshold reading mask
    ...(threshold ? [mask, 0x00] : u16le(states)), // readable (none settable) thresholds / discrete reading mask
    threshold ? 0x00 : 0xc0, // unsigned analog reading; discrete sensors have none
    threshold ? sensor.baseUnit : 0,
    0x00, // no modifier unit
    0x00, // linear
    m & 0xff,
    (m >> 2) & 0xc0, // M high bits, tolerance 0
    0x00, // B = 0
    0x00, // accuracy 0
    0x00, // accuracy exponent, sensor direction unspecified
    threshold ? nibble(sensor.rExp) << 4 : 0, // R exponent, B exponent 0
    0x00, // no nominal/normal readings
    0,
    0,
    0,
    0xff, // sensor maximum reading
    0x00, // sensor minimum reading
    t.unr ?? 0,
    t.ucr ?? 0,
    t.unc ?? 0,
    t.lnr ?? 0,
    t.lcr ?? 0,
    t.lnc ?? 0,
    0, // positive-going hysteresis
    0, // negative-going hysteresis
    0,
    0,
    0, // OEM
    0xc0 | name.length, // 8-bit ASCII + Latin 1
    ...name,
  ];
  return [...u16le(id), 0x51, 0x01, body.length, ...body];
}

/** Get Sensor Reading response for `sensor` now. */
export function sensorReading(sensor: Sensor, machine: Machine): number[] {
  const raw = sensor.read(machine);
  if (sensor.kind === 'threshold') return [raw & 0xff, 0xc0, thresholdStatus(raw, sensor.thresholds)];
  return [0x00, 0xc0, raw & 0xff, 0x80 | ((raw >> 8) & 0x7f)];
}
