// The operator process: config, logs, metrics and probes, leader election, and the controller while leading.
import { ConfigError, loadConfig } from './config.ts';
import { Controller } from './controller/controller.ts';
import { LeaderElector } from './controller/leader.ts';
import { startHealthServer } from './health.ts';
import { KubeClient } from './kube/client.ts';
import { loadDefaultConnection, UnsupportedKubeConfig } from './kube/config.ts';
import { createLogger } from './log.ts';
import { createMetrics } from './metrics.ts';
import { kubernetesMetricsAuthorizer } from './metrics-auth.ts';

const SHUTDOWN_TIMEOUT_MS = 20_000;

/**
 * The apiserver connection: $KUBECONFIG, ~/.kube/config or the pod's service account, read by kube/config.ts.
 * Only a kubeconfig that needs client-node (exec plugin, auth-provider, proxy-url) imports it.
 */
async function connect(): Promise<KubeClient> {
  try {
    return new KubeClient(await loadDefaultConnection());
  } catch (err) {
    if (!(err instanceof UnsupportedKubeConfig)) throw err;
    const { KubeConfig } = await import('@kubernetes/client-node');
    const kc = new KubeConfig();
    kc.loadFromDefault();
    return new KubeClient(kc);
  }
}

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`qemu-bmc-operator: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  let client: KubeClient;
  try {
    client = await connect();
  } catch (err) {
    process.stderr.write(`qemu-bmc-operator: KUBECONFIG: ${(err as Error).message} (and not running in a cluster)\n`);
    process.exit(2);
  }
  const metrics = createMetrics();
  client.onWrite = (verb, kind) => metrics.writes.inc({ verb, kind });
  const controller = new Controller(client, config, log, metrics);

  let leading = !config.leaderElection;
  let stopping = false;
  const shutdown = async (code: number, why: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ why }, 'shutting down');
    const hardStop = setTimeout(() => process.exit(code || 1), SHUTDOWN_TIMEOUT_MS + 5_000);
    hardStop.unref();
    await controller
      .stop(SHUTDOWN_TIMEOUT_MS)
      .catch((err: Error) => log.warn({ err: err.message }, 'controller stop failed'));
    await elector?.stop();
    await health.close();
    log.info('stopped');
    process.exit(code);
  };
  const startController = () => {
    leading = true;
    controller.start().catch((err: Error) => {
      log.error({ err: err.message }, 'controller failed to start');
      void shutdown(1, 'controller start failed');
    });
  };

  metrics.setSources({
    queueDepth: () => controller.queue.depth(),
    powerStates: () => (leading ? controller.powerStates() : new Map()),
    agentLinks: () => controller.links.counts(),
    isLeader: () => leading,
  });
  if (config.metricsAuth === 'none') log.warn('METRICS_AUTH=none: /metrics answers without credentials');
  const health = await startHealthServer(
    config.listen,
    metrics.registry,
    () => {
      if (!leading) return { ok: true, reason: 'standby' };
      return controller.synced() ? { ok: true, reason: 'leading' } : { ok: false, reason: 'caches not synced' };
    },
    config.metricsAuth === 'kubernetes' ? kubernetesMetricsAuthorizer(client) : undefined,
  );
  log.info(
    { listen: health.address(), identity: config.identity, namespace: config.watchNamespace || '(all)' },
    'operator started',
  );

  const elector = config.leaderElection
    ? new LeaderElector({
        client,
        namespace: config.leaseNamespace,
        name: config.leaseName,
        identity: config.identity,
        leaseDurationSeconds: config.leaseDurationSeconds,
        renewSeconds: config.leaseRenewSeconds,
        log,
        onStartedLeading: startController,
        // Leadership lost: stop everything and exit; the pod restarts as a standby.
        onStoppedLeading: () => void shutdown(1, 'lost leadership'),
      })
    : undefined;
  if (elector) elector.start();
  else startController();

  process.on('SIGTERM', () => void shutdown(0, 'SIGTERM'));
  process.on('SIGINT', () => void shutdown(0, 'SIGINT'));
}

await main();
