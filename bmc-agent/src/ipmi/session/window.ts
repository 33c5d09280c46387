// Inbound session sequence numbers (IPMI 2.0 §6.12.13): accept a number at most AHEAD past the highest seen, or up to
// BEHIND before it if not yet seen; reject duplicates and anything older. Checking never changes state: the caller
// commits only after the packet's integrity has been verified, so forged packets cannot move the window.

export const SEQUENCE_AHEAD = 15;
export const SEQUENCE_BEHIND = 16;

export type SequenceVerdict = 'ok' | 'zero' | 'duplicate' | 'too-old' | 'too-far';

export class SequenceWindow {
  private highest = 0;
  /** Bit i set: highest - 1 - i has been seen. */
  private seenBehind = 0;
  private started = false;

  check(seq: number): SequenceVerdict {
    if (seq === 0) return 'zero';
    // The first number in a session may be anything: clients start at 1, the spec only requires it be non-zero.
    if (!this.started) return 'ok';
    if (seq === this.highest) return 'duplicate';
    if (seq > this.highest) return seq - this.highest <= SEQUENCE_AHEAD ? 'ok' : 'too-far';
    const behind = this.highest - seq;
    if (behind > SEQUENCE_BEHIND) return 'too-old';
    return (this.seenBehind >>> (behind - 1)) & 1 ? 'duplicate' : 'ok';
  }

  /** Records a number that check() accepted. */
  commit(seq: number): void {
    if (!this.started) {
      this.started = true;
      this.highest = seq;
      this.seenBehind = 0;
      return;
    }
    if (seq > this.highest) {
      const shift = seq - this.highest;
      // The old highest becomes "shift behind"; older ones move along.
      this.seenBehind = shift >= 32 ? 0 : ((this.seenBehind << shift) | (1 << (shift - 1))) >>> 0;
      this.highest = seq;
    } else if (seq < this.highest) {
      this.seenBehind = (this.seenBehind | (1 << (this.highest - seq - 1))) >>> 0;
    }
  }
}
