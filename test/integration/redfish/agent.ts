// An agent for the Redfish integration suite (test/support/agent.ts): the VM boots the guest fixture and runs
// the given script (then powers itself off, unless the script never ends). The VM starts Off.
import { type GuestAgent, startGuestAgent } from '../../support/agent.ts';

export interface TestAgent extends GuestAgent {
  /** The Redfish port (same as redfishPort). */
  port: number;
}

export async function startAgent(guestScript: string, extraEnv: Record<string, string> = {}): Promise<TestAgent> {
  const agent = await startGuestAgent({ script: guestScript, env: extraEnv, name: 'redfish-int' });
  return { ...agent, port: agent.redfishPort };
}
