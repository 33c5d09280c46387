// Shared by the LAN and SOL configuration parameter handlers (Transport netFn).
import { CompletionCode } from '../types.ts';
import { CompletionError } from './errors.ts';

export const PARAMETER_REVISION = 0x11;
export const NOT_SUPPORTED = 0x80;
export const READ_ONLY = 0x82;
export const DEFAULT_PORT = 623;

export function exactly(data: Uint8Array, n: number): void {
  if (data.length !== n)
    throw new CompletionError(CompletionCode.RequestDataLengthInvalid, `parameter takes ${n} bytes`);
}
