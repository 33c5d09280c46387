// Commands that exist only on the system interface (KCS): the host driver polls them.
// They answer "nothing queued" because this BMC never originates messages to the host.
import { CompletionCode, type IpmiRequest, type IpmiResponse } from '../types.ts';

const NETFN_APP = 0x06;
const EMPTY = new Uint8Array(0);

const systemInterfaceOnly: Record<number, (req: IpmiRequest) => IpmiResponse> = {
  // Clear Message Flags: nothing to clear.
  48: () => ({ cc: CompletionCode.Ok, data: EMPTY }),
  // Get Message Flags: no receive-queue message, no event buffer entry, no watchdog pre-timeout.
  49: () => ({ cc: CompletionCode.Ok, data: Uint8Array.of(0x00) }),
  // Get Message: the receive message queue is empty (0x80 = data not available).
  51: () => ({ cc: 0x80, data: EMPTY }),
  // Read Event Message Buffer: empty (0x80).
  53: () => ({ cc: 0x80, data: EMPTY }),
};

/** Returns the answer when the request is a system-interface-only command, else undefined. */
export function answerSystemInterfaceCommand(req: IpmiRequest): IpmiResponse | undefined {
  if (req.netFn !== NETFN_APP) return undefined;
  return systemInterfaceOnly[req.cmd]?.(req);
}
