// Packet generators for the IPMI LAN fuzz tests: captured client packets from real ipmitool/freeipmi runs, mutated,
// plus random bytes and random payloads behind valid RMCP / RMCP+ headers.
import { createSocket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { encodePresencePing } from '../../../bmc-agent/src/ipmi/codec/asf.ts';
import { encodeRmcp, RmcpClass } from '../../../bmc-agent/src/ipmi/codec/rmcp.ts';
import { encodeSession20 } from '../../../bmc-agent/src/ipmi/codec/session20.ts';
import { loadCapture } from './fixtures/load.ts';

export function seedPackets(extra: Uint8Array[] = []): Uint8Array[] {
  const captured = ['ipmitool-c17.json', 'ipmitool-c3.json', 'freeipmi-bmc-info.json'].flatMap((f) =>
    loadCapture(f)
      .packets.filter((p) => p.from === 'client')
      .map((p) => p.bytes),
  );
  return [...captured, encodeRmcp(RmcpClass.Asf, encodePresencePing(1)), ...extra];
}

type Mutation = (p: Uint8Array) => Uint8Array;

function mutation(): fc.Arbitrary<Mutation> {
  return fc.oneof(
    fc.record({ at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }).map(({ at, bit }) => (p: Uint8Array) => {
      const q = p.slice();
      if (q.length > 0) q[at % q.length] = (q[at % q.length] ?? 0) ^ (1 << bit);
      return q;
    }),
    fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }).map(({ at, value }) => (p: Uint8Array) => {
      const q = p.slice();
      if (q.length > 0) q[at % q.length] = value;
      return q;
    }),
    fc.nat().map((n) => (p: Uint8Array) => p.slice(0, n % (p.length + 1))),
    fc.uint8Array({ minLength: 1, maxLength: 40 }).map((tail) => (p: Uint8Array) => Uint8Array.from([...p, ...tail])),
    // Lengths and counts are where parsers go wrong: overwrite 1–2 bytes in the first 20 with extremes.
    fc
      .record({ at: fc.integer({ min: 0, max: 19 }), value: fc.constantFrom(0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff) })
      .map(({ at, value }) => (p: Uint8Array) => {
        const q = p.slice();
        if (at < q.length) q[at] = value;
        return q;
      }),
  );
}

function mutated(seeds: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(fc.constantFrom(...seeds), fc.array(mutation(), { minLength: 1, maxLength: 4 }))
    .map(([seed, ms]) => ms.reduce((p, m) => m(p), seed));
}

function rmcpPlus(sessionIds: number[]): fc.Arbitrary<Uint8Array> {
  return fc
    .record({
      type: fc.oneof(fc.constantFrom(0x00, 0x01, 0x02, 0x10, 0x12, 0x14), fc.integer({ min: 0, max: 0x3f })),
      encrypted: fc.boolean(),
      authenticated: fc.boolean(),
      sessionId: fc.oneof(fc.constant(0), fc.constantFrom(...sessionIds, 1), fc.nat()),
      sequence: fc.nat(),
      payload: fc.uint8Array({ maxLength: 120 }),
      trailer: fc.uint8Array({ maxLength: 24 }),
    })
    .map((r) => {
      const body = encodeSession20({
        header: {
          payloadType: r.type,
          encrypted: r.encrypted,
          authenticated: false,
          sessionId: r.sessionId,
          sequence: r.sequence,
        },
        payload: r.payload,
      });
      if (r.authenticated) body[1] = (body[1] ?? 0) | 0x40;
      return encodeRmcp(RmcpClass.Ipmi, Uint8Array.from([...body, ...r.trailer]));
    });
}

/** The mix: mostly mutations of real packets, the rest random bytes and random RMCP/RMCP+ payloads. */
export function fuzzPacket(seeds: Uint8Array[], sessionIds: number[] = []): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 6, arbitrary: mutated(seeds) },
    { weight: 2, arbitrary: rmcpPlus(sessionIds) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }) },
    {
      weight: 1,
      arbitrary: fc.uint8Array({ maxLength: 200 }).map((b) => Uint8Array.from([0x06, 0x00, 0xff, 0x07, ...b])),
    },
  );
}

export function samplePackets(count: number, seeds: Uint8Array[], sessionIds: number[], seed: number): Uint8Array[] {
  return fc.sample(fuzzPacket(seeds, sessionIds), { numRuns: count, seed });
}

/**
 * Sends every packet to 127.0.0.1:port from a throwaway socket (replies are dropped), in batches paced on the
 * server's own received count so the loopback buffer is not simply overrun. Every wait is bounded.
 */
export async function blast(
  packets: Uint8Array[],
  port: number,
  received: () => Promise<number>,
  batch = 250,
): Promise<void> {
  const sink = createSocket('udp4');
  await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', () => resolve()));
  const start = await received();
  try {
    for (let i = 0; i < packets.length; i += batch) {
      for (const p of packets.slice(i, i + batch)) sink.send(p, port, '127.0.0.1');
      // Wait until the server caught up, or stops making progress (datagrams the kernel dropped never arrive).
      let seen = -1;
      for (let idle = 0; idle < 5; ) {
        const now = (await received()) - start;
        if (now >= i + batch - 5) break;
        idle = now === seen ? idle + 1 : 0;
        seen = now;
        await sleep(1);
      }
    }
  } finally {
    sink.close();
  }
}
