// Bridges one WebSocket (binary frames) to one TCP connection to QEMU's VNC server, with backpressure
// in both directions and a close on either side closing the other.
import net from 'node:net';
import type { WebSocket } from 'ws';

/** Pause reading from VNC while this many bytes are queued towards the browser. */
const WS_HIGH_WATER = 1 << 20;

export interface BridgeHooks {
  /** Bytes moved: 'to_browser' (VNC → WebSocket) or 'to_vnc' (WebSocket → VNC). */
  onBytes?: (direction: 'to_browser' | 'to_vnc', count: number) => void;
  /** Called once, when both sides are closed or closing. */
  onClose: () => void;
}

export function bridgeToVnc(ws: WebSocket, target: { host: string; port: number }, hooks: BridgeHooks): void {
  const tcp = net.connect({ host: target.host, port: target.port });
  tcp.setNoDelay(true);
  let closed = false;
  const close = (code: number, reason: string) => {
    if (closed) return;
    closed = true;
    tcp.destroy();
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, reason);
    hooks.onClose();
  };

  tcp.on('data', (chunk: Buffer) => {
    hooks.onBytes?.('to_browser', chunk.length);
    ws.send(chunk, { binary: true }, () => {
      if (tcp.isPaused() && ws.bufferedAmount < WS_HIGH_WATER) tcp.resume();
    });
    if (ws.bufferedAmount >= WS_HIGH_WATER) tcp.pause();
  });
  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
    const chunk = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    hooks.onBytes?.('to_vnc', chunk.length);
    if (!tcp.write(chunk) && !ws.isPaused) {
      ws.pause();
      tcp.once('drain', () => ws.resume());
    }
  });
  tcp.on('error', () => close(1011, 'VNC connection failed'));
  tcp.on('close', () => close(1000, 'VNC closed'));
  ws.on('close', () => close(1000, 'browser closed'));
  ws.on('error', () => close(1011, 'WebSocket error'));
}
