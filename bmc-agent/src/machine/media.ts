// Virtual media: an HTTP(S) image streamed by QEMU's curl block driver into the CD drive (CD1) or a hot-plugged
// removable USB disk (USB1). Nothing is downloaded: QEMU reads the ranges the guest asks for. The server must
// support HTTP range requests (QEMU's curl driver requires them); the check below applies the same rule when the VM
// is off, so an insert succeeds or fails the same way whether the VM runs or not.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Logger } from 'pino';
import { DEVICE_IDS } from '../qemu/argv.ts';
import type { QmpClient, QmpEvent } from '../qmp/client.ts';
import {
  blockdevAdd,
  blockdevCloseTray,
  blockdevDel,
  blockdevInsertMedium,
  blockdevOpenTray,
  blockdevRemoveMedium,
} from '../qmp/commands.ts';
import { MachineError, type MediaId, type MediaState } from './types.ts';

export const MEDIA_IDS: readonly MediaId[] = ['CD1', 'USB1'];
const MAX_URL_LENGTH = 2048;
/** QEMU's curl driver gives up on a stalled transfer after this many seconds. */
const CURL_TIMEOUT_S = 30;

interface Slot extends MediaState {
  /** QEMU block node holding the current medium, when QEMU runs and it is inserted. */
  nodeName: string | null;
}

export interface MediaOptions {
  log: Logger;
  /** Verify HTTPS certificates of media servers (VIRTUAL_MEDIA_TLS_VERIFY). */
  tlsVerify: boolean;
  probeTimeoutMs?: number;
}

/** Throws MachineError('invalid') unless the URL is an absolute http(s) URL without shell-hostile surprises. */
export function validateImageUrl(imageUrl: string): URL {
  if (typeof imageUrl !== 'string' || imageUrl.length === 0 || imageUrl.length > MAX_URL_LENGTH)
    throw new MachineError('invalid', `image URL must be 1..${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(imageUrl);
  } catch {
    throw new MachineError('invalid', 'image must be an absolute http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new MachineError('invalid', `image URL scheme ${url.protocol} is not supported; use http:// or https://`);
  if (url.hostname === '') throw new MachineError('invalid', 'image URL has no host');
  return url;
}

/** Hides user:password@ in URLs before they reach logs or error messages. */
export function redactUrl(url: URL): string {
  if (!url.username && !url.password) return url.href;
  const copy = new URL(url.href);
  copy.username = 'redacted';
  copy.password = '';
  return copy.href;
}

export class VirtualMedia {
  readonly #slots = new Map<MediaId, Slot>();
  readonly #log: Logger;
  readonly #tlsVerify: boolean;
  readonly #probeTimeoutMs: number;
  #nodeCounter = 0;

  constructor(options: MediaOptions) {
    this.#log = options.log;
    this.#tlsVerify = options.tlsVerify;
    this.#probeTimeoutMs = options.probeTimeoutMs ?? 15_000;
    for (const id of MEDIA_IDS) this.#slots.set(id, emptySlot(id));
  }

  list(): MediaState[] {
    return MEDIA_IDS.map((id) => publicState(this.#slot(id)));
  }

  get(id: MediaId): MediaState {
    return publicState(this.#slot(id));
  }

  /** Media to plug when a QEMU starts: returns those that are marked inserted. */
  inserted(): MediaState[] {
    return this.list().filter((m) => m.inserted);
  }

  /**
   * Inserts an image. With a running QEMU (qmp given) the medium goes in now; otherwise the URL is checked and the
   * medium is plugged at the next power on. Either way a failure leaves the slot Failed with the error, never inserted.
   */
  async insert(
    id: MediaId,
    imageUrl: string,
    writeProtected: boolean,
    qmp: QmpClient | null,
    usbBootIndex: number,
  ): Promise<MediaState> {
    const slot = this.#slotChecked(id);
    const url = validateImageUrl(imageUrl);
    if (!writeProtected) throw new MachineError('invalid', 'HTTP(S) media are read-only: WriteProtected must be true');
    if (slot.status === 'Inserting') throw new MachineError('conflict', `${id}: an insert is already in progress`);
    const previous = { ...slot };
    Object.assign(slot, { image: imageUrl, inserted: false, writeProtected: true, status: 'Inserting', error: null });
    try {
      if (qmp) {
        // The CD swaps media in one tray cycle (the old medium stays until QEMU has opened the new URL); the USB disk
        // has one fixed device id, so the old one is unplugged first.
        const oldNode = previous.nodeName;
        if (id === 'USB1') await this.#removeFromQemu(slot, qmp);
        slot.nodeName = await this.#plug(id, url, qmp, usbBootIndex);
        if (id === 'CD1' && oldNode) await blockdevDel(qmp, oldNode).catch(() => undefined);
      } else {
        await probeRangeSupport(url, this.#tlsVerify, this.#probeTimeoutMs);
      }
      Object.assign(slot, { inserted: true, status: 'Inserted' });
      this.#log.info({ media: id, image: redactUrl(url), live: qmp !== null }, 'virtual media inserted');
    } catch (err) {
      // QEMU's messages quote the URL; credentials in it must not reach the API or the logs.
      const reason = (err as Error).message.split(url.href).join(redactUrl(url));
      // Whatever was in the drive before is taken out too: after a failed insert the VM sees no medium.
      if (qmp && id === 'CD1')
        await this.#removeFromQemu({ ...slot, nodeName: previous.nodeName }, qmp).catch(() => {});
      Object.assign(slot, { inserted: false, status: 'Failed', error: reason, nodeName: null });
      this.#log.warn(
        { media: id, image: redactUrl(url), err: reason, previous: previous.image },
        'virtual media insert failed',
      );
      throw new MachineError('media-failed', `${id}: ${reason}`);
    }
    return publicState(slot);
  }

  async eject(id: MediaId, qmp: QmpClient | null): Promise<MediaState> {
    const slot = this.#slotChecked(id);
    if (slot.status === 'Inserting') throw new MachineError('conflict', `${id}: an insert is in progress`);
    if (qmp) await this.#removeFromQemu(slot, qmp);
    Object.assign(slot, emptySlot(id));
    this.#log.info({ media: id }, 'virtual media ejected');
    return publicState(slot);
  }

  /** Plugs every inserted medium into a freshly started (still paused) QEMU; failures mark the slot Failed. */
  async plugAll(qmp: QmpClient, usbBootIndex: number): Promise<MediaState[]> {
    const changed: MediaState[] = [];
    for (const id of MEDIA_IDS) {
      const slot = this.#slot(id);
      slot.nodeName = null;
      if (!slot.inserted || slot.image === null) continue;
      try {
        slot.nodeName = await this.#plug(id, new URL(slot.image), qmp, usbBootIndex);
      } catch (err) {
        Object.assign(slot, { inserted: false, status: 'Failed', error: (err as Error).message });
        this.#log.warn(
          { media: id, err: (err as Error).message },
          'virtual media could not be re-inserted at power on',
        );
        changed.push(publicState(slot));
      }
    }
    return changed;
  }

  /** QEMU went away: its block nodes went with it. */
  forgetNodes(): void {
    for (const slot of this.#slots.values()) slot.nodeName = null;
  }

  /** Logs guest-side tray movements (an eject from inside the guest does not unplug the BMC's virtual media). */
  observe(event: QmpEvent): void {
    if (event.event === 'DEVICE_TRAY_MOVED') this.#log.info({ data: event.data }, 'guest moved the CD tray');
  }

  #slot(id: MediaId): Slot {
    return this.#slots.get(id)!;
  }

  #slotChecked(id: MediaId): Slot {
    const slot = this.#slots.get(id);
    if (!slot) throw new MachineError('invalid', `unknown virtual media ${String(id)}; use ${MEDIA_IDS.join(' or ')}`);
    return slot;
  }

  async #plug(id: MediaId, url: URL, qmp: QmpClient, usbBootIndex: number): Promise<string> {
    const nodeName = `media-${id.toLowerCase()}-${++this.#nodeCounter}`;
    const file: Record<string, unknown> = {
      driver: url.protocol === 'https:' ? 'https' : 'http',
      url: url.href,
      timeout: CURL_TIMEOUT_S,
    };
    if (url.protocol === 'https:') file['sslverify'] = this.#tlsVerify;
    // QEMU opens the URL here (a HEAD request): 404, no range support or TLS errors fail now, not in the guest.
    await blockdevAdd(
      qmp,
      { driver: 'raw', 'node-name': nodeName, 'read-only': true, file },
      (CURL_TIMEOUT_S + 10) * 1000,
    );
    try {
      if (id === 'CD1') {
        await blockdevOpenTray(qmp, DEVICE_IDS.cd, true);
        await blockdevRemoveMedium(qmp, DEVICE_IDS.cd);
        await blockdevInsertMedium(qmp, DEVICE_IDS.cd, nodeName);
        await blockdevCloseTray(qmp, DEVICE_IDS.cd);
      } else {
        await qmp.execute('device_add', {
          driver: 'usb-storage',
          id: DEVICE_IDS.usbMedia,
          bus: `${DEVICE_IDS.xhci}.0`,
          drive: nodeName,
          removable: true,
          bootindex: usbBootIndex,
        });
      }
    } catch (err) {
      await blockdevDel(qmp, nodeName).catch(() => undefined);
      throw err;
    }
    return nodeName;
  }

  async #removeFromQemu(slot: Slot, qmp: QmpClient): Promise<void> {
    if (slot.id === 'CD1') {
      await blockdevOpenTray(qmp, DEVICE_IDS.cd, true);
      await blockdevRemoveMedium(qmp, DEVICE_IDS.cd);
      await blockdevCloseTray(qmp, DEVICE_IDS.cd).catch(() => undefined);
    } else if (slot.nodeName) {
      await unplugUsb(qmp);
    }
    if (slot.nodeName) await blockdevDel(qmp, slot.nodeName).catch(() => undefined);
    slot.nodeName = null;
  }
}

/** device_del is asynchronous: wait for DEVICE_DELETED (bounded) before the block node can be deleted. */
async function unplugUsb(qmp: QmpClient): Promise<void> {
  const deleted = new Promise<void>((resolve) => {
    const timer = setTimeout(done, 5_000);
    function done() {
      clearTimeout(timer);
      qmp.off('event', onEvent);
      resolve();
    }
    function onEvent(e: QmpEvent) {
      if (e.event === 'DEVICE_DELETED' && e.data['device'] === DEVICE_IDS.usbMedia) done();
    }
    qmp.on('event', onEvent);
  });
  await qmp.execute('device_del', { id: DEVICE_IDS.usbMedia });
  await deleted;
}

function emptySlot(id: MediaId): Slot {
  return { id, image: null, inserted: false, writeProtected: true, status: 'Ejected', error: null, nodeName: null };
}

function publicState(slot: Slot): MediaState {
  const { nodeName: _node, ...state } = slot;
  return state;
}

/** HEAD the image like QEMU's curl driver does: it must exist and the server must accept byte ranges. */
function probeRangeSupport(url: URL, tlsVerify: boolean, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(url, { method: 'HEAD', timeout: timeoutMs, rejectUnauthorized: tlsVerify }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400)
        resolve(); // QEMU's curl follows redirects
      else if (status < 200 || status >= 300) reject(new Error(`image server answered HTTP ${status}`));
      else if (!/\bbytes\b/i.test(String(res.headers['accept-ranges'] ?? '')))
        reject(new Error('image server does not support byte ranges (Accept-Ranges: bytes), which QEMU needs'));
      else resolve();
    });
    req.on('timeout', () => req.destroy(new Error(`image server did not answer within ${timeoutMs} ms`)));
    req.on('error', (err) => reject(new Error(`cannot reach image server: ${err.message}`)));
    req.end();
  });
}
