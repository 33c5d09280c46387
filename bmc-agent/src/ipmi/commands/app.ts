// App netFn (06h), BMC device commands (IPMI 2.0 section 20): identity, GUIDs, self test, resets, global enables,
// and the message-flag commands the guest's KCS driver polls.
import pkg from '../../../../package.json' with { type: 'json' };
import { Privilege } from '../../bmc/types.ts';
import { CompletionCode } from '../types.ts';
import { byteAt, fail, ok, toBcd, u16le } from './bytes.ts';
import { deviceUuid, smbiosGuidBytes } from './guid.ts';
import type { Runtime } from './runtime.ts';
import { type CommandSpec, command, NetFn } from './table.ts';

/** IANA enterprise number reported as manufacturer: 7154, the IPMI Forum (we impersonate no vendor). */
export const MANUFACTURER_ID = 7154;
export const PRODUCT_ID = 0x0001;
export const DEVICE_ID = 0x20;

/** Get Device ID byte 6 (table 20-2): chassis, FRU inventory, SEL, SDR repository and sensor device. */
export const ADDITIONAL_DEVICE_SUPPORT = 0x80 | 0x08 | 0x04 | 0x02 | 0x01;

export function firmwareRevision(version: string): { major: number; minor: number; patch: number } {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(version);
  if (!m) return { major: 0, minor: 0, patch: 0 };
  return {
    major: Math.min(0x7f, Number(m[1])),
    minor: Math.min(99, Number(m[2])),
    patch: Math.min(0xff, Number(m[3] ?? 0)),
  };
}

export function appCommands(rt: Runtime): CommandSpec[] {
  const app = { netFn: NetFn.App };
  // The options are fixed for the dispatcher's life: parse the version once, not per Get Device ID.
  const fw = firmwareRevision(rt.options.firmwareVersion ?? pkg.version);
  return [
    command({ ...app, cmd: 0x01, name: 'Get Device ID', privilege: Privilege.User, length: 0 }, () => {
      return ok([
        DEVICE_ID,
        0x01, // no device SDRs (we have an SDR repository instead); device revision 1
        fw.major & 0x7f, // bit 7 clear: normal operation, device available
        toBcd(fw.minor),
        0x02, // IPMI version 2.0 (BCD, least significant digit in the high nibble)
        ADDITIONAL_DEVICE_SUPPORT,
        MANUFACTURER_ID & 0xff,
        (MANUFACTURER_ID >> 8) & 0xff,
        (MANUFACTURER_ID >> 16) & 0x0f,
        ...u16le(PRODUCT_ID),
        fw.patch,
        0,
        0,
        0,
      ]);
    }),
    // Resets re-initialise nothing we keep: sessions survive so the client that asked still gets its answer.
    command({ ...app, cmd: 0x02, name: 'Cold Reset', privilege: Privilege.Administrator, length: 0 }, () => ok()),
    command({ ...app, cmd: 0x03, name: 'Warm Reset', privilege: Privilege.Administrator, length: 0 }, () => ok()),
    command({ ...app, cmd: 0x04, name: 'Get Self Test Results', privilege: Privilege.User, length: 0 }, () =>
      ok([0x55, 0x00]),
    ),
    command({ ...app, cmd: 0x08, name: 'Get Device GUID', privilege: Privilege.User, length: 0 }, (_req, ctx) =>
      ok(smbiosGuidBytes(deviceUuid(ctx.machine.info.uuid))),
    ),
    command({ ...app, cmd: 0x37, name: 'Get System GUID', privilege: Privilege.Callback, length: 0 }, (_req, ctx) =>
      ok(smbiosGuidBytes(ctx.machine.info.uuid)),
    ),
    command(
      { ...app, cmd: 0x2e, name: 'Set BMC Global Enables', privilege: Privilege.Administrator, length: 1 },
      (req) => {
        const value = byteAt(req.data, 0);
        if (value & 0x10) return fail(CompletionCode.InvalidDataField); // bit 4 is reserved
        rt.globalEnables = value;
        return ok();
      },
    ),
    command({ ...app, cmd: 0x2f, name: 'Get BMC Global Enables', privilege: Privilege.User, length: 0 }, () =>
      ok([rt.globalEnables]),
    ),
    // The BMC never queues messages or events for the host: flags stay clear and the queues are empty.
    command({ ...app, cmd: 0x30, name: 'Clear Message Flags', privilege: Privilege.User, length: 1 }, () => ok()),
    command({ ...app, cmd: 0x31, name: 'Get Message Flags', privilege: Privilege.User, length: 0 }, () => ok([0x00])),
    command({ ...app, cmd: 0x33, name: 'Get Message', privilege: Privilege.User, length: 0 }, () => fail(0x80)),
    command({ ...app, cmd: 0x35, name: 'Read Event Message Buffer', privilege: Privilege.User, length: 0 }, () =>
      fail(0x80),
    ),
  ];
}
