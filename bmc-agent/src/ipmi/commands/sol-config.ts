// SOL Configuration Parameters (IPMI 2.0 table 26-5), persisted in the BMC store.
import { type BmcState, Privilege, type PrivilegeLevel } from '../../bmc/types.ts';
import { Channel, type CommandContext, CompletionCode } from '../types.ts';
import { u16le } from './bytes.ts';
import { CompletionError } from './errors.ts';
import { DEFAULT_PORT, exactly, NOT_SUPPORTED, READ_ONLY } from './parameters.ts';
import type { Runtime } from './runtime.ts';
import { updateState } from './table.ts';

/** SOL bit rates (parameter 5) accepted: serial default, 9600, 19.2k, 38.4k, 57.6k, 115.2k. */
const SOL_BIT_RATES = new Set([0x00, 0x06, 0x07, 0x08, 0x09, 0x0a]);

export function getSol(rt: Runtime, ctx: CommandContext, param: number): number[] {
  const sol = ctx.store.state().sol;
  switch (param) {
    case 0:
      return [rt.setInProgress.sol];
    case 1:
      return [sol.enabled ? 1 : 0];
    case 2:
      return [(sol.forceEncryption ? 0x80 : 0) | (sol.forceAuthentication ? 0x40 : 0) | (sol.privilege & 0x0f)];
    case 3:
      return [Math.round(sol.characterAccumulateMs / 5), sol.characterSendThreshold];
    case 4:
      return [sol.retryCount & 0x07, Math.round(sol.retryIntervalMs / 10)];
    case 5:
    case 6:
      return [sol.baudRate & 0x0f];
    case 7:
      return [Channel.Lan];
    case 8:
      return u16le(rt.options.lanPort ?? DEFAULT_PORT);
    default:
      throw new CompletionError(NOT_SUPPORTED, `SOL parameter ${param} not supported`);
  }
}

export async function setSol(rt: Runtime, ctx: CommandContext, param: number, data: Uint8Array): Promise<void> {
  const persist = (mutator: (sol: BmcState['sol']) => void): Promise<void> =>
    updateState(ctx, (draft) => mutator(draft.sol));
  const b0 = data[0] ?? 0;
  switch (param) {
    case 0:
      exactly(data, 1);
      if ((b0 & 0x03) === 3)
        throw new CompletionError(CompletionCode.InvalidDataField, 'set-in-progress value 3 is reserved');
      rt.setInProgress.sol = b0 & 0x03;
      return;
    case 1:
      exactly(data, 1);
      return persist((sol) => {
        sol.enabled = (b0 & 0x01) !== 0;
      });
    case 2: {
      exactly(data, 1);
      const level = b0 & 0x0f;
      if (level < Privilege.User || level > Privilege.Oem)
        throw new CompletionError(CompletionCode.InvalidDataField, 'SOL privilege must be User..OEM');
      return persist((sol) => {
        sol.forceEncryption = (b0 & 0x80) !== 0;
        sol.forceAuthentication = (b0 & 0x40) !== 0;
        sol.privilege = level as PrivilegeLevel;
      });
    }
    case 3:
      exactly(data, 2);
      if (b0 === 0)
        throw new CompletionError(CompletionCode.InvalidDataField, 'accumulate interval must be at least 1');
      return persist((sol) => {
        sol.characterAccumulateMs = b0 * 5;
        sol.characterSendThreshold = data[1] ?? 0;
      });
    case 4:
      exactly(data, 2);
      return persist((sol) => {
        sol.retryCount = b0 & 0x07;
        sol.retryIntervalMs = (data[1] ?? 0) * 10;
      });
    case 5:
    case 6:
      exactly(data, 1);
      if (!SOL_BIT_RATES.has(b0 & 0x0f))
        throw new CompletionError(CompletionCode.InvalidDataField, 'unsupported bit rate');
      return persist((sol) => {
        sol.baudRate = b0 & 0x0f;
      });
    case 7:
    case 8:
      throw new CompletionError(READ_ONLY, `SOL parameter ${param} is read-only`);
    default:
      throw new CompletionError(NOT_SUPPORTED, `SOL parameter ${param} not supported`);
  }
}
