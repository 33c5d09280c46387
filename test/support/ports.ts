import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

export type PortProtocol = 'tcp' | 'udp';

/**
 * A loopback port that was free a moment ago: the OS picks it, we release it, the caller binds it.
 * Another process can still take it in between, so tests should bind right away.
 */
export async function freePort(protocol: PortProtocol = 'tcp', host = '127.0.0.1'): Promise<number> {
  return protocol === 'tcp' ? freeTcpPort(host) : freeUdpPort(host);
}

/** Several distinct free ports, all held until every one is chosen so none repeats. */
export async function freePorts(count: number, protocol: PortProtocol = 'tcp', host = '127.0.0.1'): Promise<number[]> {
  if (!Number.isInteger(count) || count < 1 || count > 64)
    throw new Error(`freePorts: count must be 1..64, got ${count}`);
  const held: Array<() => Promise<void>> = [];
  const ports: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const { port, release } = protocol === 'tcp' ? await holdTcpPort(host) : await holdUdpPort(host);
      held.push(release);
      ports.push(port);
    }
  } finally {
    await Promise.all(held.map((release) => release()));
  }
  return ports;
}

interface HeldPort {
  port: number;
  release: () => Promise<void>;
}

async function freeTcpPort(host: string): Promise<number> {
  const { port, release } = await holdTcpPort(host);
  await release();
  return port;
}

async function freeUdpPort(host: string): Promise<number> {
  const { port, release } = await holdUdpPort(host);
  await release();
  return port;
}

function holdTcpPort(host: string): Promise<HeldPort> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('freePort: listening socket has no TCP address'));
        return;
      }
      resolve({ port: address.port, release: () => new Promise((done) => server.close(() => done())) });
    });
  });
}

function holdUdpPort(host: string): Promise<HeldPort> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', reject);
    socket.bind({ address: host, port: 0, exclusive: true }, () => {
      resolve({ port: socket.address().port, release: () => new Promise((done) => socket.close(() => done())) });
    });
  });
}
