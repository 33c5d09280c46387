import { describe, expect, it } from 'vitest';
import { parseHostPort } from '../../../bmc-agent/src/console/novnc.ts';
import { ConsoleTickets } from '../../../bmc-agent/src/console/tickets.ts';

describe('console tickets', () => {
  it('are random, URL-safe, and good for exactly one use', () => {
    const tickets = new ConsoleTickets();
    const a = tickets.issue();
    const b = tickets.issue();
    expect(a).toMatch(/^[\w-]{32}$/);
    expect(a).not.toBe(b);
    expect(tickets.consume(a)).toBe(true);
    expect(tickets.consume(a)).toBe(false);
    expect(tickets.consume(b)).toBe(true);
    expect(tickets.consume('made-up')).toBe(false);
  });

  it('expire after their time to live, used or not', () => {
    const tickets = new ConsoleTickets(1_000);
    const t = tickets.issue(10_000);
    expect(tickets.consume(t, 11_000)).toBe(false);
    const u = tickets.issue(20_000);
    expect(tickets.consume(u, 20_999)).toBe(true);
  });
});

describe('VNC_ADDR parsing', () => {
  it('accepts host:port, [v6]:port and :port', () => {
    expect(parseHostPort('127.0.0.1:5901')).toEqual({ host: '127.0.0.1', port: 5901 });
    expect(parseHostPort('[::1]:5900')).toEqual({ host: '::1', port: 5900 });
    expect(parseHostPort(':5900')).toEqual({ host: 'localhost', port: 5900 });
  });

  it('refuses anything else', () => {
    for (const bad of ['5900', 'host:0', 'host:65536', 'host:x', ''])
      expect(() => parseHostPort(bad), bad).toThrow(/host:port/);
  });
});
