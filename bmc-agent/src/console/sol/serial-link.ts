// A TCP client to the VM's serial port (QEMU `-chardev socket,server=on,wait=off`), reconnecting with a bounded
// backoff because QEMU goes away on every power cycle in managed mode.
import { EventEmitter } from 'node:events';
import net from 'node:net';

export interface SerialLinkOptions {
  host: string;
  port: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export class SerialLink extends EventEmitter<{ data: [Uint8Array]; connected: []; disconnected: [] }> {
  private socket: net.Socket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private stopped = false;
  private readonly opts: Required<SerialLinkOptions>;

  constructor(opts: SerialLinkOptions) {
    super();
    // Reconnects stay quick (at most 1 s apart): QEMU drops serial output while no client is connected, and the
    // first lines of a boot are what a SOL user is watching for after a power cycle.
    this.opts = { minBackoffMs: 100, maxBackoffMs: 1000, ...opts };
    this.backoffMs = this.opts.minBackoffMs;
    this.connect();
  }

  get connected(): boolean {
    return this.socket !== undefined && !this.socket.connecting && !this.socket.destroyed;
  }

  write(data: Uint8Array): boolean {
    if (!this.connected) return false;
    this.socket!.write(data);
    return true;
  }

  close(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.socket?.destroy();
  }

  private connect(): void {
    if (this.stopped) return;
    const socket = net.connect({ host: this.opts.host, port: this.opts.port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('connect', () => {
      this.backoffMs = this.opts.minBackoffMs;
      this.emit('connected');
    });
    socket.on('data', (chunk: Buffer) => this.emit('data', new Uint8Array(chunk)));
    socket.on('error', () => {});
    socket.on('close', () => {
      if (this.socket === socket) this.socket = undefined;
      this.emit('disconnected');
      if (this.stopped) return;
      this.timer = setTimeout(() => this.connect(), this.backoffMs);
      this.timer.unref();
      this.backoffMs = Math.min(this.backoffMs * 2, this.opts.maxBackoffMs);
    });
  }
}
