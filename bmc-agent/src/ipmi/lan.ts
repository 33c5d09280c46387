// IPMI over LAN: the UDP socket, metrics and session sweeping around the pure packet handler (session/packet.ts).
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { BmcStore } from '../bmc/types.ts';
import type { Machine } from '../machine/types.ts';
import { smbiosGuidBytes } from './commands/guid.ts';
import { createCommandDispatcher } from './commands/index.ts';
import { validateCipherSuiteIds } from './crypto/suites.ts';
import { PacketHandler, type PacketOutcome, type PayloadSecurity } from './session/packet.ts';
import { SessionTable } from './session/table.ts';
import type { CommandDispatcher, SessionHandle } from './types.ts';

export interface IpmiLanConfig {
  port: number;
  host?: string;
  cipherSuites: number[];
  allowV15: boolean;
  maxSessions: number;
  sessionTimeoutSec: number;
}

export interface IpmiLanDeps {
  config: IpmiLanConfig;
  log: Logger;
  registry: Registry;
  machine: Machine;
  store: BmcStore;
  dispatcher?: CommandDispatcher;
}

export interface IpmiLan {
  close(): Promise<void>;
  readonly address: { address: string; port: number };
  /** The live session table (SOL and tests look sessions up here). */
  readonly sessions: SessionTable;
  /** Delivers authenticated, decrypted payloads of `payloadType` (e.g. 0x01 SOL) from live sessions. */
  onPayload(payloadType: number, listener: (session: SessionHandle, payload: Uint8Array) => void): void;
  /** Sends a payload to a session's console under its keys (SOL's transport). Ignored for closed sessions. */
  sendPayload(session: SessionHandle, payloadType: number, payload: Uint8Array, security: PayloadSecurity): void;
  /** Called with the ID of every session that ends. */
  onSessionClosed(listener: (sessionId: number) => void): void;
}

/** Largest datagram we read: RMCP+ packets from real clients stay far below this. */
const MAX_PACKET = 1024;

function counter(registry: Registry, name: string, help: string, labelNames: string[] = []): Counter<string> {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Counter) return existing;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

function guidOf(uuid: string): Uint8Array {
  try {
    return Uint8Array.from(smbiosGuidBytes(uuid));
  } catch {
    return new Uint8Array(16);
  }
}

/**
 * dgram resolves the address of every send, even an IP literal (dns.lookup, answered on the next tick). Replies go to
 * the address recvmsg reported, always a literal: answer those at once and resolve only names (a configured host).
 */
function literalLookup(
  hostname: string,
  options: LookupOneOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const family = isIP(hostname);
  if (family !== 0) callback(null, hostname, family);
  else dnsLookup(hostname, options, callback);
}

export async function startIpmiLan(deps: IpmiLanDeps): Promise<IpmiLan> {
  const { config, log, registry } = deps;
  validateCipherSuiteIds(config.cipherSuites);
  if (!Number.isInteger(config.sessionTimeoutSec) || config.sessionTimeoutSec < 1) {
    throw new RangeError(`session timeout ${config.sessionTimeoutSec}s must be a positive integer`);
  }
  const sessions = new SessionTable({
    maxSessions: config.maxSessions,
    idleTimeoutMs: config.sessionTimeoutSec * 1000,
  });
  const packets = counter(registry, 'ipmi_lan_packets_total', 'IPMI LAN datagrams received');
  const rejected = counter(registry, 'ipmi_lan_rejected_total', 'IPMI LAN packets refused or dropped, by reason', [
    'reason',
  ]);
  const opened = counter(registry, 'ipmi_lan_sessions_opened_total', 'RMCP+ sessions activated');
  const expired = counter(registry, 'ipmi_lan_sessions_expired_total', 'RMCP+ sessions closed for idleness');
  sessions.onSweep = (removed) => {
    expired.inc(removed.expired);
    if (removed.abandoned > 0) rejected.inc({ reason: 'handshake-abandoned' }, removed.abandoned);
  };
  if (!registry.getSingleMetric('ipmi_lan_sessions_active')) {
    new Gauge({
      name: 'ipmi_lan_sessions_active',
      help: 'RMCP+ sessions currently active',
      registers: [registry],
      collect() {
        this.set(sessions.active().length);
      },
    });
  }

  const host = config.host ?? '0.0.0.0';
  const socket: Socket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', lookup: literalLookup });
  // Created once the port is known (LAN parameter 8 reports it); datagrams before that are dropped.
  let handler: PacketHandler | undefined;
  const answer = (outcome: PacketOutcome, rinfo: RemoteInfo): void => {
    if (outcome.rejected) {
      rejected.inc({ reason: outcome.rejected });
      log.debug({ remote: rinfo.address, reason: outcome.rejected }, 'ipmi lan packet refused');
    }
    if (outcome.opened) {
      opened.inc();
      log.info(
        { remote: rinfo.address, user: outcome.opened.userName, suite: outcome.opened.suite.id },
        'ipmi session opened',
      );
    }
    if (outcome.reply) socket.send(outcome.reply, rinfo.port, rinfo.address);
  };
  const failed = (err: unknown, rinfo: RemoteInfo): void => {
    // A bug in a handler must not take the listener down; it is logged and counted.
    rejected.inc({ reason: 'internal-error' });
    log.error({ err, remote: rinfo.address }, 'ipmi lan packet handling failed');
  };
  const onMessage = (msg: Buffer, rinfo: RemoteInfo): void => {
    packets.inc();
    if (!handler) return;
    if (msg.length > MAX_PACKET) {
      rejected.inc({ reason: 'oversize' });
      return;
    }
    let outcome: PacketOutcome | Promise<PacketOutcome>;
    try {
      outcome = handler.handle(new Uint8Array(msg.buffer, msg.byteOffset, msg.length), {
        address: rinfo.address,
        port: rinfo.port,
      });
    } catch (err) {
      failed(err, rinfo);
      return;
    }
    // Synchronous commands (most) are answered in this same callback; the others when their promise settles.
    if (outcome instanceof Promise)
      outcome.then(
        (o) => answer(o, rinfo),
        (err: unknown) => failed(err, rinfo),
      );
    else answer(outcome, rinfo);
  };
  socket.on('message', onMessage);
  socket.on('error', (err) => log.error({ err }, 'ipmi lan socket error'));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(config.port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const bound = socket.address();
  // Without a shared dispatcher (main.ts passes the one in-band uses too) this transport owns its own.
  const owned = deps.dispatcher ? undefined : createCommandDispatcher({ ipmi15: config.allowV15, lanPort: bound.port });
  owned?.attach(deps.machine);
  const dispatcher = deps.dispatcher ?? (owned as CommandDispatcher);
  handler = new PacketHandler({
    table: sessions,
    store: deps.store,
    machine: deps.machine,
    dispatcher,
    cipherSuites: config.cipherSuites,
    allowV15: config.allowV15,
    guid: guidOf(deps.machine.info.uuid),
  });

  const sweeper = setInterval(() => sessions.sweep(), 1000);
  sweeper.unref();
  log.info({ address: bound.address, port: bound.port, cipherSuites: config.cipherSuites }, 'ipmi lan listening');

  const ready = handler;
  return {
    address: { address: bound.address, port: bound.port },
    sessions,
    onPayload: (payloadType, listener) => ready.onPayload(payloadType, listener),
    onSessionClosed: (listener) => sessions.onSessionClosed(listener),
    sendPayload(handle, payloadType, payload, security) {
      const session = sessions.byId(handle.id);
      if (!session || session.isClosed) return;
      socket.send(ready.seal(session, payloadType, payload, security), session.remotePort, session.remoteAddress);
    },
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(sweeper);
        sessions.closeAll();
        owned?.close();
        socket.close(() => resolve());
      }),
  };
}
