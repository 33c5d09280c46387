import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  decodeSolPacket,
  encodeSolPacket,
  nextSolSeq,
  SolOperation,
} from '../../../bmc-agent/src/console/sol/codec.ts';
import { SolSession } from '../../../bmc-agent/src/console/sol/session.ts';

function harness(overrides: Partial<ConstructorParameters<typeof SolSession>[0]> = {}) {
  const sent: ReturnType<typeof decodeSolPacket>[] = [];
  const serial: string[] = [];
  const sol = new SolSession({
    send: (p) => sent.push(decodeSolPacket(p)),
    writeSerial: (d) => {
      serial.push(Buffer.from(d).toString());
      return true;
    },
    maxOutboundData: 8,
    retryIntervalMs: 100,
    retryCount: 2,
    ...overrides,
  });
  return { sol, sent, serial };
}

const data = (s: string) => new Uint8Array(Buffer.from(s));
const text = (p: { data: Uint8Array } | null | undefined) => Buffer.from(p?.data ?? []).toString();

describe('SOL payload codec (IPMI 2.0 §15.9)', () => {
  it('round-trips the four header bytes and data', () => {
    const bytes = encodeSolPacket({ seq: 3, ackSeq: 2, accepted: 5, flags: SolOperation.Nack, data: data('hi') });
    expect(Array.from(bytes)).toEqual([0x03, 0x02, 0x05, 0x40, 0x68, 0x69]);
    expect(decodeSolPacket(bytes)).toEqual({ seq: 3, ackSeq: 2, accepted: 5, flags: 0x40, data: data('hi') });
    expect(decodeSolPacket(Uint8Array.of(1, 2, 3))).toBeNull();
  });

  it('sequence numbers run 1..15 and skip 0', () => {
    expect(nextSolSeq(0)).toBe(1);
    expect(nextSolSeq(14)).toBe(15);
    expect(nextSolSeq(15)).toBe(1);
  });
});

describe('SOL session', () => {
  afterEach(() => vi.useRealTimers());

  it('sends serial output in packets no larger than advertised, one in flight until acknowledged', () => {
    const { sol, sent } = harness();
    sol.fromSerial(data('hello, world!'));
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ seq: 1, ackSeq: 0 });
    expect(text(sent[0])).toBe('hello, w');
    sol.fromConsole({ seq: 0, ackSeq: 1, accepted: 8, flags: 0, data: new Uint8Array() });
    expect(sent).toHaveLength(2);
    expect(sent[1]).toMatchObject({ seq: 2 });
    expect(text(sent[1])).toBe('orld!');
  });

  it('resends the unaccepted rest after a partial acknowledgement', () => {
    const { sol, sent } = harness();
    sol.fromSerial(data('abcdefgh'));
    sol.fromConsole({ seq: 0, ackSeq: 1, accepted: 3, flags: 0, data: new Uint8Array() });
    expect(text(sent[1])).toBe('defgh');
  });

  it('retransmits on timeout up to the retry count, then drops the packet and goes on', () => {
    vi.useFakeTimers();
    const { sol, sent } = harness();
    sol.fromSerial(data('lost'));
    vi.advanceTimersByTime(100);
    vi.advanceTimersByTime(100);
    expect(sent.map((p) => p?.seq)).toEqual([1, 1, 1]);
    vi.advanceTimersByTime(100);
    expect(sol.stats).toMatchObject({ sent: 1, retransmits: 2, dropped: 4 });
    sol.fromSerial(data('next'));
    expect(sent.at(-1)).toMatchObject({ seq: 2 });
    expect(text(sent.at(-1))).toBe('next');
  });

  it('writes console input to serial once and acknowledges it, re-acking a duplicate without rewriting', () => {
    const { sol, sent, serial } = harness();
    sol.fromConsole({ seq: 5, ackSeq: 0, accepted: 0, flags: 0, data: data('ls\r') });
    sol.fromConsole({ seq: 5, ackSeq: 0, accepted: 0, flags: 0, data: data('ls\r') });
    expect(serial).toEqual(['ls\r']);
    expect(sent).toEqual([
      { seq: 0, ackSeq: 5, accepted: 3, flags: 0, data: new Uint8Array() },
      { seq: 0, ackSeq: 5, accepted: 3, flags: 0, data: new Uint8Array() },
    ]);
    expect(sol.stats.duplicates).toBe(1);
  });

  it('holds output after a nack and resumes when the console sends again', () => {
    const { sol, sent } = harness();
    sol.fromSerial(data('12345678abc'));
    sol.fromConsole({ seq: 0, ackSeq: 1, accepted: 0, flags: SolOperation.Nack, data: new Uint8Array() });
    expect(sent).toHaveLength(1);
    sol.fromConsole({ seq: 1, ackSeq: 0, accepted: 0, flags: 0, data: data('x') });
    // an ack for the console's packet, then the held data again from the first unaccepted byte
    expect(sent[1]).toMatchObject({ seq: 0, ackSeq: 1, accepted: 1 });
    expect(text(sent[2])).toBe('12345678');
  });

  it('ignores acknowledgements for packets it did not send', () => {
    const { sol, sent } = harness();
    sol.fromSerial(data('a'));
    sol.fromConsole({ seq: 0, ackSeq: 9, accepted: 1, flags: 0, data: new Uint8Array() });
    sol.fromSerial(data('b'));
    expect(sent).toHaveLength(1);
  });

  it('refuses console input while the serial port is down: accepted 0, NACK and "character transfer unavailable"', () => {
    const sent: ReturnType<typeof decodeSolPacket>[] = [];
    const sol = new SolSession({
      send: (p) => sent.push(decodeSolPacket(p)),
      writeSerial: () => false,
      maxOutboundData: 8,
      retryIntervalMs: 100,
      retryCount: 2,
    });
    sol.fromConsole({ seq: 2, ackSeq: 0, accepted: 0, flags: 0, data: data('x') });
    sol.fromConsole({ seq: 2, ackSeq: 0, accepted: 0, flags: 0, data: data('x') });
    const refused = { seq: 0, ackSeq: 2, accepted: 0, flags: 0x40 | 0x20, data: new Uint8Array() };
    expect(sent).toEqual([refused, refused]);
  });

  it('reports retransmissions both ways, data given up, and bytes moved', () => {
    vi.useFakeTimers();
    const events: string[] = [];
    const { sol } = harness({
      events: {
        retransmit: () => events.push('retransmit'),
        duplicate: () => events.push('duplicate'),
        dropped: (n) => events.push(`dropped ${n}`),
        bytes: (direction, n) => events.push(`${direction} ${n}`),
      },
    });
    sol.fromConsole({ seq: 1, ackSeq: 0, accepted: 0, flags: 0, data: data('ab') });
    sol.fromConsole({ seq: 1, ackSeq: 0, accepted: 0, flags: 0, data: data('ab') });
    sol.fromSerial(data('xyz'));
    sol.fromConsole({ seq: 0, ackSeq: 1, accepted: 3, flags: 0, data: new Uint8Array() });
    sol.fromSerial(data('lost'));
    vi.advanceTimersByTime(300);
    expect(events).toEqual(['to_serial 2', 'duplicate', 'to_console 3', 'retransmit', 'retransmit', 'dropped 4']);
  });

  it('sends nothing once closed, and a deactivating packet carries status bit 4', () => {
    const { sol, sent } = harness();
    const bye = decodeSolPacket(sol.deactivatingPacket());
    expect(bye).toMatchObject({ seq: 1, ackSeq: 0, accepted: 0, flags: 0x10 });
    sol.close();
    sol.fromSerial(data('late'));
    sol.fromConsole({ seq: 3, ackSeq: 0, accepted: 0, flags: 0, data: data('x') });
    expect(sent).toHaveLength(0);
  });
});
