// System Boot Options parameters 0-7 (IPMI 2.0 section 28.12-28.13, table 28-14). Parameter 5 (boot flags) is the
// Machine's boot override; the raw bytes of every parameter are kept in the store so what a client wrote reads back.
import type { BmcState } from '../../bmc/types.ts';
import type { BootOverride, BootTarget, Machine } from '../../machine/types.ts';
import type { CommandContext } from '../types.ts';
import { CompletionCode } from '../types.ts';
import { fromHex, hex } from './bytes.ts';
import { CompletionError } from './errors.ts';
import type { Runtime } from './runtime.ts';
import { updateState } from './table.ts';

export const BootParam = {
  SetInProgress: 0,
  ServicePartitionSelector: 1,
  ServicePartitionScan: 2,
  ValidBitClearing: 3,
  BootInfoAcknowledge: 4,
  BootFlags: 5,
  BootInitiatorInfo: 6,
  BootInitiatorMailbox: 7,
} as const;

/** Boot flags data 2 bits 5:2, "boot device selector" (table 28-14), to the Machine's boot target. */
export const BOOT_DEVICE_TARGETS: Readonly<Record<number, BootTarget>> = {
  0: 'None', // no override
  1: 'Pxe', // force PXE
  2: 'Hdd', // force boot from default hard drive
  3: 'Hdd', // ... request safe mode
  4: 'Hdd', // force boot from diagnostic partition
  5: 'Cd', // force boot from CD/DVD
  6: 'BiosSetup', // force boot into BIOS setup
  7: 'Usb', // remotely connected floppy/primary removable media
  8: 'Cd', // remotely connected CD/DVD
  9: 'Cd', // primary remote media
  11: 'Hdd', // remotely connected hard drive
  15: 'Usb', // floppy/primary removable media
};

/** The selector we report for a target when the client did not choose a more specific one. */
export const TARGET_BOOT_DEVICE: Readonly<Record<BootTarget, number>> = {
  None: 0x0,
  Pxe: 0x1,
  Hdd: 0x2,
  Cd: 0x5,
  BiosSetup: 0x6,
  Usb: 0xf,
};

const FLAG_VALID = 0x80;
const FLAG_PERSISTENT = 0x40;
const FLAG_EFI = 0x20;
const MAILBOX_BLOCKS = 5;
const BLOCK = 16;

/** Data length each settable parameter takes (after the parameter selector byte). */
const SET_LENGTH: Readonly<Record<number, [number, number]>> = {
  0: [1, 1],
  1: [1, 1],
  2: [1, 1],
  3: [1, 1],
  4: [2, 2],
  5: [5, 5],
  6: [9, 9],
  7: [2, 1 + BLOCK],
};

/** Parameter 5 as the Machine's override plus the bits the client set that the Machine has no notion of. */
export function encodeBootFlags(override: BootOverride, raw: Uint8Array | undefined): number[] {
  const stored = [0, 0, 0, 0, 0].map((z, i) => raw?.[i] ?? z);
  const storedDevice = ((stored[1] ?? 0) >> 2) & 0x0f;
  const active = override.enabled !== 'Disabled' && override.target !== 'None';
  const device = !active
    ? 0
    : BOOT_DEVICE_TARGETS[storedDevice] === override.target
      ? storedDevice
      : TARGET_BOOT_DEVICE[override.target];
  // Without an override the persistent bit is the client's (freeipmi sets fields one at a time, valid bit last).
  const persistent = active ? override.enabled === 'Continuous' : ((stored[0] ?? 0) & FLAG_PERSISTENT) !== 0;
  return [
    (active ? FLAG_VALID : 0) | (persistent ? FLAG_PERSISTENT : 0) | (override.mode === 'UEFI' ? FLAG_EFI : 0),
    ((stored[1] ?? 0) & 0xc3) | (device << 2),
    stored[2] ?? 0,
    stored[3] ?? 0,
    stored[4] ?? 0,
  ];
}

/** The Machine change that boot flags written by a client ask for. */
export function decodeBootFlags(data: Uint8Array): Partial<BootOverride> {
  const flags = data[0] ?? 0;
  const device = ((data[1] ?? 0) >> 2) & 0x0f;
  const target = BOOT_DEVICE_TARGETS[device];
  if (target === undefined)
    throw new CompletionError(CompletionCode.InvalidDataField, `boot device selector ${device} is reserved`);
  const mode = flags & FLAG_EFI ? 'UEFI' : 'Legacy';
  // A clear valid bit, or "no override", means no boot override at all.
  if (!(flags & FLAG_VALID) || target === 'None') return { target: 'None', enabled: 'Disabled', mode };
  return { target, enabled: flags & FLAG_PERSISTENT ? 'Continuous' : 'Once', mode };
}

function stored(state: Readonly<BmcState>, param: number): Uint8Array | undefined {
  return fromHex(state.bootParams[param]);
}

export function getBootOption(rt: Runtime, ctx: CommandContext, param: number, block: number): number[] {
  const state = ctx.store.state();
  const raw = (size: number): number[] =>
    [...new Array<number>(size).fill(0)].map((z, i) => stored(state, param)?.[i] ?? z);
  switch (param) {
    case BootParam.SetInProgress:
      return [rt.setInProgress.boot];
    case BootParam.ServicePartitionSelector:
    case BootParam.ServicePartitionScan:
    case BootParam.ValidBitClearing:
      return raw(1);
    case BootParam.BootInfoAcknowledge:
      return [0x00, raw(1)[0] ?? 0]; // the write mask reads back as 0
    case BootParam.BootFlags:
      return encodeBootFlags(ctx.machine.bootOverride(), stored(state, param));
    case BootParam.BootInitiatorInfo:
      return raw(9);
    case BootParam.BootInitiatorMailbox: {
      if (block >= MAILBOX_BLOCKS)
        throw new CompletionError(CompletionCode.ParameterOutOfRange, 'no such mailbox block');
      const mailbox = raw(MAILBOX_BLOCKS * BLOCK);
      return [block, ...mailbox.slice(block * BLOCK, block * BLOCK + BLOCK)];
    }
    default:
      throw new CompletionError(0x80, `boot option parameter ${param} not supported`);
  }
}

export async function setBootOption(
  rt: Runtime,
  ctx: CommandContext,
  machine: Machine,
  param: number,
  data: Uint8Array,
): Promise<void> {
  const length = SET_LENGTH[param];
  if (!length) throw new CompletionError(0x80, `boot option parameter ${param} not supported`);
  if (data.length < length[0] || data.length > length[1])
    throw new CompletionError(CompletionCode.RequestDataLengthInvalid, `parameter ${param} takes ${length[0]} bytes`);
  const write = (bytes: readonly number[] | Uint8Array): Promise<void> =>
    updateState(ctx, (draft) => {
      draft.bootParams[param] = hex(bytes);
    });
  switch (param) {
    case BootParam.SetInProgress: {
      const value = (data[0] ?? 0) & 0x03;
      if (value === 3)
        throw new CompletionError(CompletionCode.InvalidDataField, 'set-in-progress value 3 is reserved');
      // Lenient: a client that died mid-sequence must not lock the others out, so "in progress" is never refused.
      rt.setInProgress.boot = value;
      return;
    }
    case BootParam.BootInfoAcknowledge: {
      const mask = data[0] ?? 0;
      const current = stored(ctx.store.state(), param)?.[0] ?? 0;
      return write([(current & ~mask) | ((data[1] ?? 0) & mask)]);
    }
    case BootParam.BootFlags: {
      const change = decodeBootFlags(data);
      await machine.setBootOverride(change);
      return write(data);
    }
    case BootParam.BootInitiatorMailbox: {
      const block = data[0] ?? 0;
      if (block >= MAILBOX_BLOCKS)
        throw new CompletionError(CompletionCode.ParameterOutOfRange, 'no such mailbox block');
      const mailbox = new Uint8Array(MAILBOX_BLOCKS * BLOCK);
      mailbox.set(stored(ctx.store.state(), param)?.subarray(0, mailbox.length) ?? new Uint8Array(0));
      mailbox.set(data.subarray(1), block * BLOCK);
      return write(mailbox);
    }
    default:
      return write(data);
  }
}
