// A UDP relay that loses SOL packets on purpose, to make both ends of Serial-over-LAN retransmit.
//
// It listens on [::1]:<the agent's IPMI port> and relays to 127.0.0.1:<same port>: the port must be the same
// because Activate Payload tells ipmitool which UDP port to use for SOL, and ipmitool refuses a different one.
// Only RMCP+ packets of payload type 01h (SOL) are dropped (every `every`-th one in each direction, while loss is
// switched on), so session set-up and IPMI commands are never disturbed.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

export interface LossyRelay {
  /** Host for ipmitool's -H. */
  host: string;
  /** SOL packets dropped so far, per direction. */
  dropped: { toAgent: number; toConsole: number };
  /** SOL packets relayed so far, per direction. */
  relayed: { toAgent: number; toConsole: number };
  /** Starts (true) or stops dropping; the relay starts lossless. */
  setLoss(on: boolean): void;
  close(): Promise<void>;
}

function isSol(packet: Buffer): boolean {
  // RMCP header (4 bytes), then the session header: auth type 06h (RMCP+), payload type in the low 6 bits.
  return (
    packet.length > 5 && packet[0] === 0x06 && packet[3] === 0x07 && packet[4] === 0x06 && (packet[5]! & 0x3f) === 1
  );
}

export async function startLossyRelay(
  port: number,
  every: { toAgent: number; toConsole: number },
): Promise<LossyRelay> {
  const front: Socket = createSocket({ type: 'udp6', ipv6Only: true });
  const back: Socket = createSocket('udp4');
  const relay: LossyRelay = {
    host: '::1',
    dropped: { toAgent: 0, toConsole: 0 },
    relayed: { toAgent: 0, toConsole: 0 },
    setLoss: () => undefined,
    close: () =>
      Promise.all([
        new Promise<void>((r) => front.close(() => r())),
        new Promise<void>((r) => back.close(() => r())),
      ]).then(() => undefined),
  };
  let client: RemoteInfo | undefined;
  let lossy = false;
  relay.setLoss = (on) => {
    lossy = on;
  };
  let solToAgent = 0;
  let solToConsole = 0;
  front.on('message', (msg, rinfo) => {
    client = rinfo;
    if (lossy && isSol(msg) && ++solToAgent % every.toAgent === 0) {
      relay.dropped.toAgent++;
      return;
    }
    if (isSol(msg)) relay.relayed.toAgent++;
    back.send(msg, port, '127.0.0.1');
  });
  back.on('message', (msg) => {
    if (!client) return;
    if (lossy && isSol(msg) && ++solToConsole % every.toConsole === 0) {
      relay.dropped.toConsole++;
      return;
    }
    if (isSol(msg)) relay.relayed.toConsole++;
    front.send(msg, client.port, client.address);
  });
  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.bind(port, '::1', () => resolve());
  });
  await new Promise<void>((resolve) => back.bind(0, '127.0.0.1', () => resolve()));
  return relay;
}
