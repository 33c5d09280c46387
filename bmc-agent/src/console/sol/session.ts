// One active SOL payload instance: moves serial output to the console with acknowledgement and retransmission,
// and console input to the serial port, acknowledging every data packet (duplicates are acked, not re-written).
import { encodeSolPacket, nextSolSeq, SolOperation, type SolPacket, SolStatus } from './codec.ts';

export interface SolSessionOptions {
  /** Sends one SOL payload to the console on the RMCP+ session. */
  send: (payload: Uint8Array) => void;
  /** Writes console input to the VM's serial port; false when the port is not connected (the data is refused). */
  writeSerial: (data: Uint8Array) => boolean;
  /** Largest character data we put in one packet (what Activate Payload told the client). */
  maxOutboundData: number;
  retryIntervalMs: number;
  retryCount: number;
  /** Serial output held while unacknowledged; beyond it the oldest bytes are dropped (transmit overrun). */
  bufferLimit?: number;
  /** Told about retransmissions both ways and about data given up (for metrics). */
  events?: {
    /** We sent a data packet again (no acknowledgement in time). */
    retransmit?: () => void;
    /** The console sent a data packet again (it missed our acknowledgement): acknowledged, not re-written. */
    duplicate?: () => void;
    /** Serial output given up after the last retry. */
    dropped?: (bytes: number) => void;
    /** Bytes moved: to the console (acknowledged) or to the serial port. */
    bytes?: (direction: 'to_console' | 'to_serial', count: number) => void;
  };
}

interface InFlight {
  seq: number;
  data: Uint8Array;
  attempts: number;
}

export class SolSession {
  private readonly opts: SolSessionOptions;
  private pending: Buffer = Buffer.alloc(0);
  private inFlight: InFlight | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastSentSeq = 0;
  private lastInbound: { seq: number; accepted: number; flags: number } | undefined;
  private paused = false;
  private overrun = false;
  private closed = false;
  /** Counters for metrics and tests. */
  readonly stats = { sent: 0, retransmits: 0, dropped: 0, received: 0, duplicates: 0 };

  constructor(opts: SolSessionOptions) {
    this.opts = opts;
  }

  /** Serial output from the VM. */
  fromSerial(chunk: Uint8Array): void {
    if (this.closed) return;
    this.pending = Buffer.concat([this.pending, chunk]);
    const limit = this.opts.bufferLimit ?? 64 * 1024;
    if (this.pending.length > limit) {
      this.pending = this.pending.subarray(this.pending.length - limit);
      this.overrun = true;
    }
    this.pump();
  }

  /** A SOL payload from the console. */
  fromConsole(packet: SolPacket): void {
    if (this.closed) return;
    if (packet.ackSeq !== 0 && this.inFlight && packet.ackSeq === this.inFlight.seq) this.onAck(packet);
    if (packet.seq !== 0) this.onData(packet);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The packet that tells the console SOL is going away (sent on deactivation). */
  deactivatingPacket(): Uint8Array {
    this.lastSentSeq = nextSolSeq(this.lastSentSeq);
    return encodeSolPacket({
      seq: this.lastSentSeq,
      ackSeq: 0,
      accepted: 0,
      flags: SolStatus.Deactivating,
      data: new Uint8Array(0),
    });
  }

  private onAck(packet: SolPacket): void {
    const flight = this.inFlight!;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.inFlight = undefined;
    // A nack asks us to hold off; the unaccepted characters stay first in line.
    this.paused = (packet.flags & SolOperation.Nack) !== 0;
    const accepted = Math.min(packet.accepted, flight.data.length);
    if (accepted > 0) this.opts.events?.bytes?.('to_console', accepted);
    const rest = flight.data.subarray(accepted);
    if (rest.length > 0) this.pending = Buffer.concat([rest, this.pending]);
    if (!this.paused) this.pump();
  }

  private onData(packet: SolPacket): void {
    this.stats.received++;
    if (this.lastInbound?.seq === packet.seq) {
      // A retransmission of what we already wrote: acknowledge it again, write nothing.
      this.stats.duplicates++;
      this.opts.events?.duplicate?.();
      this.ack(packet.seq, this.lastInbound.accepted, this.lastInbound.flags);
      return;
    }
    // With the serial port gone (VM off, QEMU restarting) nothing is accepted and the console is told why.
    const written = packet.data.length === 0 || this.opts.writeSerial(packet.data);
    const accepted = written ? packet.data.length : 0;
    const flags = written ? 0 : SolStatus.Nack | SolStatus.CharacterTransferUnavailable;
    if (written && accepted > 0) this.opts.events?.bytes?.('to_serial', accepted);
    this.lastInbound = { seq: packet.seq, accepted, flags };
    this.ack(packet.seq, accepted, flags);
    if (this.paused && (packet.flags & SolOperation.Nack) === 0 && packet.ackSeq === 0) {
      // Console data without a nack means it is listening again.
      this.paused = false;
      this.pump();
    }
  }

  private ack(seq: number, accepted: number, flags = 0): void {
    this.opts.send(encodeSolPacket({ seq: 0, ackSeq: seq, accepted, flags, data: new Uint8Array(0) }));
  }

  private pump(): void {
    if (this.closed || this.inFlight || this.paused || this.pending.length === 0) return;
    const size = Math.min(this.pending.length, this.opts.maxOutboundData);
    const data = Uint8Array.from(this.pending.subarray(0, size));
    this.pending = this.pending.subarray(size);
    this.lastSentSeq = nextSolSeq(this.lastSentSeq);
    this.inFlight = { seq: this.lastSentSeq, data, attempts: 0 };
    this.transmit();
  }

  private transmit(): void {
    const flight = this.inFlight;
    if (!flight || this.closed) return;
    const flags = this.overrun ? SolStatus.TransmitOverrun : 0;
    this.overrun = false;
    this.opts.send(encodeSolPacket({ seq: flight.seq, ackSeq: 0, accepted: 0, flags, data: flight.data }));
    if (flight.attempts === 0) this.stats.sent++;
    else {
      this.stats.retransmits++;
      this.opts.events?.retransmit?.();
    }
    flight.attempts++;
    this.timer = setTimeout(() => this.onTimeout(), this.opts.retryIntervalMs);
    this.timer.unref?.();
  }

  private onTimeout(): void {
    this.timer = undefined;
    const flight = this.inFlight;
    if (!flight) return;
    if (flight.attempts > this.opts.retryCount) {
      // The console never acknowledged: give the characters up rather than stall the stream.
      this.stats.dropped += flight.data.length;
      this.opts.events?.dropped?.(flight.data.length);
      this.inFlight = undefined;
      this.pump();
      return;
    }
    this.transmit();
  }
}
