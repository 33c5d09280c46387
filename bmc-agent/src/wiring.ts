// Composition root: configuration → logger → state → machine → front ends. Nothing else lives here.

import { access, mkdir } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import type { Request } from 'express';
import { Registry } from 'prom-client';
import { initialRestorePolicy, shouldPowerOnAtStart } from './bmc/restore-policy.ts';
import { FileBmcStore, STATE_FILE_NAME } from './bmc/store.ts';
import { type AgentConfig, type Env, parseConfig } from './config.ts';
import { createConsoleService } from './console/novnc.ts';
import { SolManager } from './console/sol/manager.ts';
import { SerialLink } from './console/sol/serial-link.ts';
import { createCommandDispatcher } from './ipmi/commands/index.ts';
import { startInbandServer } from './ipmi/inband/server.ts';
import { startIpmiLan } from './ipmi/lan.ts';
import { createLogger, type Logger } from './log.ts';
import { type AgentMachine, createMachine } from './machine/create.ts';
import { ManagedMachine } from './machine/managed-machine.ts';
import { createRegistry, instrumentMachine } from './metrics.ts';
import { setupVmNetworks } from './network/setup.ts';
import { derivedMac, resolveVmUuid } from './qemu/identity.ts';
import { authenticate } from './redfish/auth.ts';
import { redfishConfigFromAgent } from './redfish/from-agent-config.ts';
import { startRedfishServer } from './redfish/server.ts';

/** RMCP+ payload type of Serial over LAN. */
const SOL_PAYLOAD = 0x01;

export interface Agent {
  config: AgentConfig;
  log: Logger;
  store: FileBmcStore;
  machine: AgentMachine;
  registry: Registry;
  redfishPort: number;
  ipmiPort: number;
  /** Stops the front ends, then the VM (per VM_STOP_ON_EXIT), and saves state. Safe to call twice. */
  stop(): Promise<void>;
}

export const hostFacts = {
  primaryIPv4(): string | null {
    for (const addrs of Object.values(networkInterfaces()))
      for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
    return null;
  },
};

/**
 * Managed mode: host interfaces in VM_NETWORKS are bridged to taps before anything starts (waiting, bounded, for
 * interfaces containerlab adds after start, as the seed did); QEMU then gets the taps.
 */
async function withVmNetworks(config: AgentConfig, log: Logger): Promise<AgentConfig> {
  if (config.mode !== 'managed' || config.vm.networks.every((n) => n === 'user')) return config;
  const { backends } = await setupVmNetworks(config.vm.networks, { log: log.child({ component: 'network' }) });
  return { ...config, vm: { ...config.vm, networks: backends } };
}

/** Express-style header access for a raw upgrade request, so the console shares Redfish's authentication. */
function asHeaderRequest(req: IncomingMessage): Request {
  const get = (name: string): string | undefined => {
    const v = req.headers[name.toLowerCase()];
    return Array.isArray(v) ? v[0] : v;
  };
  return { get, header: get, headers: req.headers } as unknown as Request;
}

export async function startAgent(env: Env, overrides: { log?: Logger } = {}): Promise<Agent> {
  const parsed = parseConfig(env, hostFacts);
  const log = overrides.log ?? createLogger({ level: parsed.logLevel });
  for (const warning of parsed.warnings) log.warn(warning);
  await mkdir(parsed.stateDir, { recursive: true, mode: 0o700 });
  const config = await withVmNetworks(parsed, log);

  const uuid = await resolveVmUuid(config.stateDir, config.vmUuid);
  const statePath = join(config.stateDir, STATE_FILE_NAME);
  const freshState = await access(statePath).then(
    () => false,
    () => true,
  );
  const store = await FileBmcStore.open({
    path: statePath,
    seed: {
      adminUser: config.ipmi.user,
      adminPassword: config.ipmi.password,
      address: config.bmcAddress,
      macAddress: config.bmcMac ?? derivedMac(uuid, 'bmc'),
      powerRestorePolicy: config.powerRestorePolicy ?? initialRestorePolicy(config.powerOnAtStart),
      bootMode: config.vm.bootMode,
    },
  });
  // POWER_RESTORE_POLICY (the operator's CR) is the source of truth: applied at every start, over whatever
  // `ipmitool chassis policy` stored meanwhile. Unset, the stored policy persists.
  const restorePolicy = config.powerRestorePolicy;
  if (restorePolicy !== null && store.state().powerRestorePolicy !== restorePolicy) {
    log.info(
      { from: store.state().powerRestorePolicy, to: restorePolicy },
      'power restore policy from POWER_RESTORE_POLICY',
    );
    await store.update((draft) => {
      draft.powerRestorePolicy = restorePolicy;
    });
  }

  // With METRICS=false the front ends still get a registry (they register into it), it is just not served.
  const registry = config.metrics ? createRegistry() : new Registry();
  let powerActions: ReturnType<typeof instrumentMachine> | null = null;
  const machine = await createMachine({
    config,
    store,
    log,
    uuid,
    onPowerAction: (type, result) => powerActions?.powerActions.inc({ type, result }),
  });
  powerActions = instrumentMachine(registry, machine);
  log.info(
    { mode: config.mode, uuid, accelerator: machine.info.accelerator, stateDir: config.stateDir },
    'machine ready',
  );

  const stops: Array<() => Promise<void>> = [];
  let ipmiSessions: { closeAll(): void } | null = null;
  try {
    const redfish = await startRedfishServer({
      config: redfishConfigFromAgent(config, uuid),
      log: log.child({ component: 'redfish' }),
      registry,
      machine,
      store,
      // Manager.Reset: like a BMC reboot, every IPMI session ends too (Redfish clears its own).
      onManagerReset: async () => ipmiSessions?.closeAll(),
      // /metrics is served by the Redfish app, behind its authentication (any role).
      serveMetrics: config.metrics,
    });
    stops.push(() => redfish.close());
    if (config.consoleEnabled) {
      const consoleService = createConsoleService({
        vncAddress: `${config.vncAddr.host}:${config.vncAddr.port}`,
        authorize: (req) => authenticate(asHeaderRequest(req), store, redfish.context.sessions) !== undefined,
        maxConsoles: config.consoleMax,
        log,
        registry,
      });
      redfish.app.use(consoleService.router);
      redfish.server.on('upgrade', (req, socket, head) => {
        if (!consoleService.handleUpgrade(req, socket, head)) socket.destroy();
      });
      stops.push(async () => consoleService.closeAll());
    } else {
      // CONSOLE_ENABLED=false: no /novnc pages (plain 404) and every WebSocket upgrade is refused.
      redfish.server.on('upgrade', (_req, socket) => {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      });
    }

    // Serial over LAN: the VM's serial port (SERIAL_ADDR) bridged to RMCP+ payload type 1 of the owning session.
    const serial = new SerialLink({ host: config.serialAddr.host, port: config.serialAddr.port });
    stops.push(async () => serial.close());
    let lanPort = config.ipmi.port;
    const sol = new SolManager({
      serial,
      store,
      lanPort: () => lanPort,
      log: log.child({ component: 'sol' }),
      registry,
    });
    const dispatcher = createCommandDispatcher({ ipmi15: config.ipmi.allowV15, lanPort: config.ipmi.port, sol });
    const lan = await startIpmiLan({
      config: {
        port: config.ipmi.port,
        cipherSuites: config.ipmi.cipherSuites,
        allowV15: config.ipmi.allowV15,
        maxSessions: config.ipmi.maxSessions,
        sessionTimeoutSec: config.ipmi.sessionTimeoutS,
      },
      log: log.child({ component: 'ipmi-lan' }),
      registry,
      machine,
      store,
      dispatcher,
    });
    stops.push(() => lan.close());
    ipmiSessions = lan.sessions;
    lanPort = lan.address.port;
    sol.attachTransport({
      send: (session, payload, security) => lan.sendPayload(session, SOL_PAYLOAD, payload, security),
    });
    lan.onPayload(SOL_PAYLOAD, (session, payload) => sol.handleInbound(session, payload));
    lan.onSessionClosed((id) => sol.sessionClosed(id));

    if (config.vmIpmiAddr) {
      const inband = await startInbandServer({
        address: `${config.vmIpmiAddr.host}:${config.vmIpmiAddr.port}`,
        dispatcher,
        machine,
        store,
        cipherSuites: config.ipmi.cipherSuites,
        log,
        registry,
      });
      stops.push(() => inband.close());
    }

    // Power restore policy (managed mode): a VM adopted from a previous agent run is already where it should be.
    // A fresh state file with POWER_ON_AT_START=true powers on once whatever the policy (the CR's initialState).
    if (machine instanceof ManagedMachine && machine.powerState() === 'Off') {
      const s = store.state();
      const initialOn = freshState && config.powerOnAtStart;
      if (initialOn || shouldPowerOnAtStart(s.powerRestorePolicy, s.lastPowerState)) {
        log.info({ policy: s.powerRestorePolicy, last: s.lastPowerState, initialOn }, 'power restore: powering on');
        await machine.powerOnAtStart().catch((err: Error) => log.error({ err: err.message }, 'power restore failed'));
      }
    }

    log.info(
      { redfishPort: redfish.port, ipmiPort: lan.address.port, console: config.consoleEnabled },
      'agent started',
    );
    let stopping: Promise<void> | null = null;
    return {
      config,
      log,
      store,
      machine,
      registry,
      redfishPort: redfish.port,
      ipmiPort: lan.address.port,
      stop() {
        stopping ??= (async () => {
          for (const stop of stops.reverse())
            await stop().catch((err: Error) => log.warn({ err: err.message }, 'stop'));
          if (machine instanceof ManagedMachine) {
            if (config.stopVmOnExit) await machine.shutdown(true, config.gracefulShutdownTimeoutS * 1000);
            else machine.detach();
          } else {
            await machine.close();
          }
          await machine.settled();
          log.info('agent stopped');
        })();
        return stopping;
      },
    };
  } catch (err) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    if (machine instanceof ManagedMachine) await machine.shutdown(false, 5_000);
    else await machine.close();
    throw err;
  }
}
