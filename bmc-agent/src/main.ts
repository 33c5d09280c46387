// bmc-agent entry point: start from the environment, stop cleanly on SIGTERM/SIGINT.
import { CorruptStateError } from './bmc/store.ts';
import { ConfigError } from './config.ts';
import { NetworkPlanError } from './network/plan.ts';
import { NetworkSetupError } from './network/setup.ts';
import { type Agent, startAgent } from './wiring.ts';

/** Starts the agent and installs signal handlers; a bad configuration exits with one line naming the variable. */
export async function run(env: NodeJS.ProcessEnv): Promise<Agent> {
  let agent: Agent | null = null;
  let pending: NodeJS.Signals | null = null;
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    // Handlers are installed before start-up, so a signal during it is not fatal: it is acted on once started.
    if (!agent) {
      pending = signal;
      return;
    }
    const running = agent;
    signals++;
    if (signals > 1) {
      running.log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    running.log.info({ signal }, 'shutting down');
    running.stop().then(
      () => process.exit(0),
      (err: Error) => {
        running.log.error({ err: err.message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    agent = await startAgent(env);
  } catch (err) {
    if (
      err instanceof ConfigError ||
      err instanceof CorruptStateError ||
      err instanceof NetworkSetupError ||
      err instanceof NetworkPlanError
    ) {
      process.stderr.write(`bmc-agent: ${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`bmc-agent: cannot start: ${(err as Error).message}\n`);
    process.exit(1);
  }
  if (pending) onSignal(pending);
  return agent;
}

if (import.meta.main) await run(process.env);
