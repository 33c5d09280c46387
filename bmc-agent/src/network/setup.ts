// VM_NETWORKS host set-up with iproute2 (execFile, no shell): wait for each host interface, then bridge it to a tap.
// Call before QEMU starts; use the returned backends as the VM's NIC list (config.vm.networks).
import { execFile } from 'node:child_process';
import { access, mkdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { type BridgeLink, linkCommands, type PlanOptions, planVmNetworks } from './plan.ts';

const run = promisify(execFile);

export interface NetworkSetupLog {
  info(obj: object, msg: string): void;
}

export interface NetworkSetupOptions extends PlanOptions {
  /** How long to wait for each host interface to appear (containerlab adds them after start). Seed: 30 s. */
  waitMs?: number;
  /** Interval between looks while waiting. */
  pollMs?: number;
  /** The iproute2 binary. */
  ip?: string;
  /** Work in this named network namespace (`ip -n`), for tests; default: the agent's own. */
  netns?: string;
  /** Create /dev/net/tun when the container runtime did not (needs CAP_MKNOD, a default Docker capability). */
  ensureTunDevice?: boolean;
  log?: NetworkSetupLog;
}

export class NetworkSetupError extends Error {
  constructor(message: string) {
    super(`VM_NETWORKS: ${message}`);
    this.name = 'NetworkSetupError';
  }
}

export interface NetworkSetupResult {
  /** One per VM_NETWORKS entry: a tap name or "user" (QEMU -netdev backends, in NIC order). */
  backends: string[];
  links: BridgeLink[];
}

/**
 * For each host interface in `networks`: wait (bounded) for it, create bridge br<i> and tap tap<i> unless they exist,
 * enslave both, flush the host interface's addresses and bring everything up. Idempotent.
 */
export async function setupVmNetworks(
  networks: readonly string[],
  options: NetworkSetupOptions = {},
): Promise<NetworkSetupResult> {
  const plan = planVmNetworks(networks, options);
  if (plan.links.length === 0) return { backends: plan.backends, links: [] };
  const waitMs = options.waitMs ?? 30_000;
  const pollMs = options.pollMs ?? 250;
  const ipBin = options.ip ?? 'ip';
  const nsArgs = options.netns ? ['-n', options.netns] : [];
  const ip = async (args: string[]): Promise<void> => {
    try {
      await run(ipBin, [...nsArgs, ...args], { timeout: 10_000 });
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr?.trim();
      throw new NetworkSetupError(`ip ${args.join(' ')} failed: ${stderr || (err as Error).message}`);
    }
  };
  const exists = async (name: string): Promise<boolean> => {
    try {
      await run(ipBin, [...nsArgs, '-o', 'link', 'show', 'dev', name], { timeout: 10_000 });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new NetworkSetupError(`${ipBin} not found: install iproute2`);
      return false;
    }
  };

  if (options.ensureTunDevice ?? true) await ensureTun();

  for (const link of plan.links) {
    const deadline = Date.now() + waitMs;
    let polls = 0;
    while (!(await exists(link.hostInterface))) {
      if (Date.now() >= deadline)
        throw new NetworkSetupError(`interface ${link.hostInterface} did not appear within ${waitMs / 1000} s`);
      if (polls++ === 0) options.log?.info({ interface: link.hostInterface, waitMs }, 'waiting for interface');
      await sleep(pollMs);
    }
    const state = { bridgeExists: await exists(link.bridge), tapExists: await exists(link.tap) };
    for (const args of linkCommands(link, state)) await ip(args);
    options.log?.info({ ...link, ...state }, 'VM network bridged');
  }
  return plan;
}

async function ensureTun(): Promise<void> {
  try {
    await access('/dev/net/tun');
    return;
  } catch {
    // created below
  }
  try {
    await mkdir('/dev/net', { recursive: true });
    await run('mknod', ['-m', '0666', '/dev/net/tun', 'c', '10', '200'], { timeout: 10_000 });
  } catch (err) {
    throw new NetworkSetupError(
      `/dev/net/tun is missing and cannot be created (${(err as Error).message.split('\n')[0]}); ` +
        'run the container with --device /dev/net/tun',
    );
  }
}
