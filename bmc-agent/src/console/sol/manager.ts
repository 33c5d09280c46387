// Serial-over-LAN: implements the command table's SolPayloadHook (Activate/Deactivate Payload) on top of the
// RMCP+ session layer, bridging one payload instance to the VM's serial port.
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { BmcStore } from '../../bmc/types.ts';
import { CompletionError } from '../../ipmi/commands/errors.ts';
import type { SolPayloadHook } from '../../ipmi/commands/index.ts';
import type { SessionHandle } from '../../ipmi/types.ts';
import { decodeSolPacket } from './codec.ts';
import type { SerialLink } from './serial-link.ts';
import { SolSession } from './session.ts';

/** How the session layer carries SOL payloads (payload type 01h) for one RMCP+ session. */
export interface SolTransport {
  send(session: SessionHandle, payload: Uint8Array, options: { encrypt: boolean; authenticate: boolean }): void;
}

export interface SolManagerDeps {
  serial: SerialLink;
  store: BmcStore;
  /** UDP port of the LAN channel: ipmitool only supports SOL on the session's own port. */
  lanPort: () => number;
  log: Logger;
  registry: Registry;
}

/** Largest SOL character data per packet, each way (what Activate Payload advertises). */
const MAX_SOL_DATA = 200;
const SOL_INSTANCE = 1;

interface Active {
  session: SessionHandle;
  sol: SolSession;
  options: { encrypt: boolean; authenticate: boolean };
}

export class SolManager implements SolPayloadHook {
  private active: Active | undefined;
  private transport: SolTransport | undefined;
  private readonly deps: SolManagerDeps;
  private readonly activations: Counter<'result'>;
  private readonly activeGauge: Gauge;
  private readonly retransmits: Counter<'by'>;
  private readonly droppedBytes: Counter;
  private readonly bytes: Counter<'direction'>;

  constructor(deps: SolManagerDeps) {
    this.deps = deps;
    this.activations = new Counter({
      name: 'qemubmc_sol_activations_total',
      help: 'SOL Activate Payload requests by result',
      labelNames: ['result'],
      registers: [deps.registry],
    });
    this.activeGauge = new Gauge({
      name: 'qemubmc_sol_active',
      help: '1 while SOL is active',
      registers: [deps.registry],
    });
    this.retransmits = new Counter({
      name: 'qemubmc_sol_retransmits_total',
      help: 'SOL data packets sent again: by the BMC (no acknowledgement in time) or by the console (recognised duplicates)',
      labelNames: ['by'],
      registers: [deps.registry],
    });
    this.droppedBytes = new Counter({
      name: 'qemubmc_sol_dropped_bytes_total',
      help: 'Serial output given up after the last SOL retry',
      registers: [deps.registry],
    });
    this.bytes = new Counter({
      name: 'qemubmc_sol_bytes_total',
      help: 'SOL character data: acknowledged by the console (to_console) or written to the serial port (to_serial)',
      labelNames: ['direction'],
      registers: [deps.registry],
    });
    deps.serial.on('data', (chunk) => this.active?.sol.fromSerial(chunk));
  }

  /** The LAN layer plugs itself in once its socket is bound. */
  attachTransport(transport: SolTransport): void {
    this.transport = transport;
  }

  async activate(
    session: SessionHandle,
    instance: number,
    options: { encrypt: boolean; authenticate: boolean },
  ): Promise<{ inboundSize: number; outboundSize: number; port: number }> {
    if (instance !== SOL_INSTANCE) throw new CompletionError(0xcc, `SOL instance ${instance} does not exist`);
    if (this.active) {
      this.activations.inc({ result: 'already-active' });
      throw new CompletionError(0x80, 'SOL payload already active on another session');
    }
    if (!this.transport) throw new CompletionError(0x81, 'SOL transport not ready');
    const transport = this.transport;
    const cfg = this.deps.store.state().sol;
    const sol = new SolSession({
      send: (payload) => transport.send(session, payload, options),
      writeSerial: (data) => this.deps.serial.write(data),
      events: {
        retransmit: () => this.retransmits.inc({ by: 'bmc' }),
        duplicate: () => this.retransmits.inc({ by: 'console' }),
        dropped: (count) => this.droppedBytes.inc(count),
        bytes: (direction, count) => this.bytes.inc({ direction }, count),
      },
      maxOutboundData: MAX_SOL_DATA,
      retryIntervalMs: Math.max(cfg.retryIntervalMs, 100),
      retryCount: cfg.retryCount,
    });
    this.active = { session, sol, options };
    this.activeGauge.set(1);
    this.activations.inc({ result: 'activated' });
    this.deps.log.info({ user: session.userName, session: session.id }, 'SOL activated');
    const size = MAX_SOL_DATA + 4;
    return { inboundSize: size, outboundSize: size, port: this.deps.lanPort() };
  }

  async deactivate(session: SessionHandle | undefined, instance: number): Promise<boolean> {
    if (instance !== SOL_INSTANCE || !this.active) return false;
    const { sol, session: owner, options } = this.active;
    // Another session with enough privilege may deactivate it: the owner is told it is going away. An owner
    // deactivating its own SOL learns it from the command's response; an unsolicited SOL packet in the middle of
    // that exchange would be taken by ipmitool as the Deactivate Payload response (it returns the first packet
    // that arrives).
    if (session?.id !== owner.id) this.transport?.send(owner, sol.deactivatingPacket(), options);
    this.stop();
    this.deps.log.info({ by: session?.userName ?? 'system' }, 'SOL deactivated');
    return true;
  }

  activeInstances(): number[] {
    return this.active ? [SOL_INSTANCE] : [];
  }

  /** An inbound SOL payload on a session; ignored unless that session owns the active instance. */
  handleInbound(session: SessionHandle, payload: Uint8Array): boolean {
    if (!this.active || this.active.session.id !== session.id) return false;
    const packet = decodeSolPacket(payload);
    if (!packet) return false;
    this.active.sol.fromConsole(packet);
    return true;
  }

  /** The owning session closed or expired. */
  sessionClosed(sessionId: number): void {
    if (this.active?.session.id === sessionId) this.stop();
  }

  private stop(): void {
    this.active?.sol.close();
    this.active = undefined;
    this.activeGauge.set(0);
  }
}
