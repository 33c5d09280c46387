// How handlers stop early with a completion code, and how machine and store failures map onto IPMI codes.
import { MachineError } from '../../machine/types.ts';
import { CompletionCode } from '../types.ts';

/** Thrown by a handler to answer with `cc` (and no data); nothing has been changed when it is thrown. */
export class CompletionError extends Error {
  readonly cc: number;
  constructor(cc: number, message: string) {
    super(message);
    this.name = 'CompletionError';
    this.cc = cc;
  }
}

/** Completion code for an error a handler did not expect to throw, so the transport can still answer. */
export function completionCodeFor(error: unknown): number {
  if (error instanceof CompletionError) return error.cc;
  if (error instanceof MachineError) {
    switch (error.code) {
      case 'invalid':
        return CompletionCode.InvalidDataField;
      case 'conflict':
      case 'unavailable':
        return CompletionCode.NotSupportedInPresentState;
      case 'media-failed':
        return CompletionCode.Unspecified;
    }
  }
  return CompletionCode.Unspecified;
}
