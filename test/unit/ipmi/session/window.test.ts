import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SEQUENCE_AHEAD, SEQUENCE_BEHIND, SequenceWindow } from '../../../../bmc-agent/src/ipmi/session/window.ts';

function windowAt(start: number): SequenceWindow {
  const w = new SequenceWindow();
  w.commit(start);
  return w;
}

describe('SequenceWindow (IPMI 2.0 §6.12.13)', () => {
  it('never accepts 0, takes any first number, then rejects the same number again', () => {
    const w = new SequenceWindow();
    expect(w.check(0)).toBe('zero');
    expect(w.check(1)).toBe('ok');
    w.commit(1);
    expect(w.check(1)).toBe('duplicate');
    expect(w.check(2)).toBe('ok');
  });

  it(`accepts up to ${SEQUENCE_AHEAD} ahead and nothing further`, () => {
    const w = windowAt(100);
    expect(w.check(100 + SEQUENCE_AHEAD)).toBe('ok');
    expect(w.check(100 + SEQUENCE_AHEAD + 1)).toBe('too-far');
  });

  it(`accepts late packets up to ${SEQUENCE_BEHIND} behind, once each`, () => {
    const w = windowAt(100);
    w.commit(110); // 101..109 never arrived
    expect(w.check(105)).toBe('ok');
    w.commit(105);
    expect(w.check(105)).toBe('duplicate');
    expect(w.check(100)).toBe('duplicate');
    expect(w.check(110 - SEQUENCE_BEHIND)).toBe('ok');
    expect(w.check(110 - SEQUENCE_BEHIND - 1)).toBe('too-old');
  });

  it('checking does not change state (only commit does)', () => {
    const w = windowAt(5);
    expect(w.check(6)).toBe('ok');
    expect(w.check(6)).toBe('ok');
    expect(w.check(20)).toBe('ok');
    expect(w.check(21)).toBe('too-far');
  });

  it('never accepts a number twice, whatever the arrival order (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 60 }), { maxLength: 200 }), (arrivals) => {
        const w = new SequenceWindow();
        const accepted = new Set<number>();
        for (const seq of arrivals) {
          if (w.check(seq) === 'ok') {
            expect(accepted.has(seq)).toBe(false);
            accepted.add(seq);
            w.commit(seq);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
