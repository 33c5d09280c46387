// Sensor/Event netFn (04h), IPMI 2.0 section 35: readings, thresholds, hysteresis and event enables of SENSORS.
import { Privilege } from '../../bmc/types.ts';
import { CompletionCode } from '../types.ts';
import { byteAt, fail, ok, u16le } from './bytes.ts';
import { SENSORS, type Sensor, sensorReading, thresholdBytes } from './sensors.ts';
import { type CommandSpec, command, NetFn } from './table.ts';

function sensorNumbered(n: number): Sensor | undefined {
  return SENSORS.find((s) => s.number === n);
}

export function sensorCommands(): CommandSpec[] {
  const se = { netFn: NetFn.SensorEvent };
  return [
    command({ ...se, cmd: 0x25, name: 'Get Sensor Hysteresis', privilege: Privilege.User, length: 2 }, (req) =>
      sensorNumbered(byteAt(req.data, 0)) ? ok([0, 0]) : fail(CompletionCode.NotPresent),
    ),
    command({ ...se, cmd: 0x27, name: 'Get Sensor Thresholds', privilege: Privilege.User, length: 1 }, (req) => {
      const sensor = sensorNumbered(byteAt(req.data, 0));
      if (!sensor) return fail(CompletionCode.NotPresent);
      if (sensor.kind !== 'threshold') return fail(CompletionCode.IllegalForSensorOrRecord);
      return ok(thresholdBytes(sensor.thresholds));
    }),
    command({ ...se, cmd: 0x29, name: 'Get Sensor Event Enable', privilege: Privilege.User, length: 1 }, (req) => {
      const sensor = sensorNumbered(byteAt(req.data, 0));
      if (!sensor) return fail(CompletionCode.NotPresent);
      return ok([0x40, ...u16le(0), ...u16le(0)]); // scanning enabled, no event messages
    }),
    command({ ...se, cmd: 0x2d, name: 'Get Sensor Reading', privilege: Privilege.User, length: 1 }, (req, ctx) => {
      const sensor = sensorNumbered(byteAt(req.data, 0));
      if (!sensor) return fail(CompletionCode.NotPresent);
      return ok(sensorReading(sensor, ctx.machine));
    }),
  ];
}
