// In-band IPMI: a TCP server that QEMU's `ipmi-bmc-extern` chardev connects to (as a client, with reconnect=N).
// Requests from the guest's KCS interface go through the same command table as LAN, on the system
// interface channel with implicit Administrator privilege, as a real BMC's host interface has.
import net from 'node:net';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { BmcStore } from '../../bmc/types.ts';
import { Privilege } from '../../bmc/types.ts';
import type { Machine } from '../../machine/types.ts';
import { Channel, type CommandDispatcher, CompletionCode, type IpmiResponse } from '../types.ts';
import { parseListenAddress } from './address.ts';
import {
  encodeCommandFrame,
  encodeResponse,
  parseRequest,
  VM_PROTOCOL_VERSION,
  VmCapability,
  VmCommand,
  VmFrameDecoder,
} from './codec.ts';

export interface InbandDeps {
  /** VM_IPMI_ADDR, e.g. ":9002". */
  address: string;
  dispatcher: CommandDispatcher;
  machine: Machine;
  store: BmcStore;
  cipherSuites: readonly number[];
  log: Logger;
  registry: Registry;
}

/** Hardware operations the BMC can ask QEMU to carry out on the VM. */
export type HardwareOperation = 'power-off' | 'reset' | 'nmi' | 'force-off' | 'graceful-shutdown';

const hardwareOps: Record<HardwareOperation, { op: number; needs: number }> = {
  'power-off': { op: VmCommand.PowerOff, needs: VmCapability.Power },
  'force-off': { op: VmCommand.ForceOff, needs: 0 },
  'graceful-shutdown': { op: VmCommand.GracefulShutdown, needs: VmCapability.Power },
  reset: { op: VmCommand.Reset, needs: VmCapability.Reset },
  nmi: { op: VmCommand.SendNmi, needs: VmCapability.Nmi },
};

export interface InbandServer {
  readonly port: number;
  /** True while QEMU is connected. */
  connected(): boolean;
  /** Sends a hardware operation to QEMU; false when QEMU is not connected or lacks the capability. */
  sendHardwareOperation(op: HardwareOperation): boolean;
  close(): Promise<void>;
}

function inbandMetrics(registry: Registry) {
  return {
    requests: new Counter({
      name: 'qemubmc_inband_requests_total',
      help: 'In-band IPMI requests from the guest, by netFn, command and completion code',
      labelNames: ['netfn', 'cmd', 'cc'],
      registers: [registry],
    }),
    frameErrors: new Counter({
      name: 'qemubmc_inband_frame_errors_total',
      help: 'Frames from QEMU that were dropped, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    connected: new Gauge({
      name: 'qemubmc_inband_connected',
      help: '1 while QEMU ipmi-bmc-extern is connected',
      registers: [registry],
    }),
  };
}

const hex = (n: number) => `0x${n.toString(16).padStart(2, '0')}`;

export async function startInbandServer(deps: InbandDeps): Promise<InbandServer> {
  const { host, port } = parseListenAddress(deps.address);
  const log = deps.log.child({ component: 'inband' });
  const metrics = inbandMetrics(deps.registry);
  let current: { socket: net.Socket; capabilities: number } | undefined;

  const dispatch = async (req: Parameters<CommandDispatcher['dispatch']>[0]): Promise<IpmiResponse> => {
    try {
      return await deps.dispatcher.dispatch(req, {
        machine: deps.machine,
        store: deps.store,
        privilege: Privilege.Administrator,
        cipherSuites: deps.cipherSuites,
      });
    } catch (err) {
      log.error({ err, netFn: req.netFn, cmd: req.cmd }, 'in-band command failed');
      return { cc: CompletionCode.Unspecified, data: new Uint8Array(0) };
    }
  };

  const onConnection = (socket: net.Socket) => {
    if (current) {
      // QEMU has one chardev per BMC; a second client is a stale reconnect: the newest one wins.
      log.warn({ remote: socket.remoteAddress }, 'replacing previous ipmi-bmc-extern connection');
      current.socket.destroy();
    }
    const conn = { socket, capabilities: 0 };
    current = conn;
    metrics.connected.set(1);
    socket.setNoDelay(true);
    log.info({ remote: `${socket.remoteAddress}:${socket.remotePort}` }, 'QEMU ipmi-bmc-extern connected');
    socket.write(encodeCommandFrame(VmCommand.Version, VM_PROTOCOL_VERSION));

    const decoder = new VmFrameDecoder();
    // KCS carries one request at a time, but keep replies in arrival order regardless.
    let queue: Promise<void> = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) {
        if (frame.kind === 'error') {
          metrics.frameErrors.inc({ reason: frame.reason });
          continue;
        }
        if (frame.kind === 'command') {
          handleCommand(conn, frame.bytes);
          continue;
        }
        const req = parseRequest(frame.bytes);
        if (!req) {
          metrics.frameErrors.inc({ reason: 'checksum' });
          continue;
        }
        queue = queue.then(async () => {
          const res = await dispatch({
            netFn: req.netFn,
            cmd: req.cmd,
            lun: req.lun,
            data: req.data,
            channel: Channel.SystemInterface,
          });
          metrics.requests.inc({ netfn: hex(req.netFn), cmd: hex(req.cmd), cc: hex(res.cc) });
          log.debug({ netFn: hex(req.netFn), cmd: hex(req.cmd), cc: hex(res.cc) }, 'in-band request');
          if (!socket.destroyed) socket.write(encodeResponse(req, res.cc, res.data));
        });
      }
    });
    socket.on('error', (err) => log.debug({ err }, 'ipmi-bmc-extern socket error'));
    socket.on('close', () => {
      if (current === conn) {
        current = undefined;
        metrics.connected.set(0);
      }
      log.info('QEMU ipmi-bmc-extern disconnected');
    });
  };

  const handleCommand = (conn: { capabilities: number }, bytes: Uint8Array) => {
    const op = bytes[0];
    if (op === VmCommand.Capabilities && bytes.length >= 2) conn.capabilities = bytes[1]!;
    else if (op === VmCommand.Reset) log.debug('guest reset reported by QEMU');
    else if (op !== VmCommand.Version) metrics.frameErrors.inc({ reason: 'unknown-command' });
  };

  const server = net.createServer(onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  const boundPort = typeof bound === 'object' && bound ? bound.port : port;
  log.info({ host: host ?? '*', port: boundPort }, 'in-band IPMI listening for ipmi-bmc-extern');

  return {
    port: boundPort,
    connected: () => current !== undefined,
    sendHardwareOperation(name) {
      const spec = hardwareOps[name];
      if (!current || (spec.needs && !(current.capabilities & spec.needs))) return false;
      current.socket.write(encodeCommandFrame(spec.op));
      return true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        current?.socket.destroy();
        server.close(() => resolve());
      }),
  };
}
