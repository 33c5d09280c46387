// The shape of one command table entry and the helpers every netFn module uses to declare its commands.
import type { BmcState } from '../../bmc/types.ts';
import type { CommandContext, CommandEntry, CommandHandler } from '../types.ts';
import { CompletionCode } from '../types.ts';
import { CompletionError } from './errors.ts';

export const NetFn = { Chassis: 0x00, SensorEvent: 0x04, App: 0x06, Storage: 0x0a, Transport: 0x0c } as const;

/** A table entry plus the request length the dispatcher checks before calling the handler (0xC7 otherwise). */
export interface CommandSpec extends CommandEntry {
  minLength: number;
  maxLength: number;
}

export function command(
  entry: Omit<CommandEntry, 'handler'> & { length: number | [min: number, max: number] },
  handler: CommandHandler,
): CommandSpec {
  const [minLength, maxLength] = typeof entry.length === 'number' ? [entry.length, entry.length] : entry.length;
  return {
    netFn: entry.netFn,
    cmd: entry.cmd,
    name: entry.name,
    privilege: entry.privilege,
    minLength,
    maxLength,
    handler,
  };
}

/**
 * Applies a change through the store (validated, persisted). A change the store refuses is the client's bad data:
 * it answers 0xCC and leaves the state as it was.
 */
export async function updateState(ctx: CommandContext, mutator: (draft: BmcState) => void): Promise<void> {
  try {
    await ctx.store.update(mutator);
  } catch (error) {
    if (error instanceof CompletionError) throw error;
    throw new CompletionError(CompletionCode.InvalidDataField, `state change refused: ${(error as Error).message}`);
  }
}

/** Resolves 0x0E ("this channel") to the channel the request came in on. */
export function resolveChannel(channel: number, ctx: CommandContext, requestChannel: number): number {
  const c = channel & 0x0f;
  if (c === 0x0e) return ctx.session?.channel ?? requestChannel;
  return c;
}
