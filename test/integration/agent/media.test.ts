import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ManagedMachine } from '../../../bmc-agent/src/machine/managed-machine.ts';
import { QmpClient } from '../../../bmc-agent/src/qmp/client.ts';
import { type BlockInfo, queryBlock } from '../../../bmc-agent/src/qmp/commands.ts';
import { type AgentRig, agentRig } from './support.ts';

// A loopback image server: /img.iso with byte ranges (what QEMU's curl driver needs), /no-range.iso without.
const image = randomBytes(2 * 1024 * 1024);
const rangeRequests: string[] = [];
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/img.iso') {
      const range = /^bytes=(\d+)-(\d+)?$/.exec(req.headers.range ?? '');
      res.setHeader('Accept-Ranges', 'bytes');
      if (range) {
        rangeRequests.push(req.headers.range!);
        const start = Number(range[1]);
        const end = Math.min(range[2] ? Number(range[2]) : image.length - 1, image.length - 1);
        res.writeHead(206, {
          'Content-Range': `bytes ${start}-${end}/${image.length}`,
          'Content-Length': end - start + 1,
        });
        res.end(req.method === 'HEAD' ? undefined : image.subarray(start, end + 1));
      } else {
        res.writeHead(200, { 'Content-Length': image.length });
        res.end(req.method === 'HEAD' ? undefined : image);
      }
    } else if (req.url === '/no-range.iso') {
      res.writeHead(200, { 'Content-Length': image.length });
      res.end(req.method === 'HEAD' ? undefined : image);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

let rig: AgentRig | null = null;
const r0 = () => rig!.dir;
afterEach(async () => {
  await rig?.cleanup();
  rig = null;
});

async function withInspect<T>(r: AgentRig, fn: (qmp: QmpClient) => Promise<T>): Promise<T> {
  const qmp = new QmpClient({ target: { path: r.inspectSocket } });
  await qmp.connectWithRetry(20);
  try {
    return await fn(qmp);
  } finally {
    qmp.close();
  }
}

const cdBlock = (blocks: BlockInfo[]) => blocks.find((b) => b.qdev?.includes('cd0') || b.device === 'ide2-cd0');

/** Copies the medium through QEMU's block layer to a local file (a backup job): proof QEMU itself streams the image. */
async function copyThroughQemu(qmp: QmpClient, device: string, target: string): Promise<Buffer> {
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('backup job did not complete')), 60_000);
    qmp.on('event', (e) => {
      if (e.event !== 'BLOCK_JOB_COMPLETED') return;
      clearTimeout(timer);
      if (e.data['error']) reject(new Error(String(e.data['error'])));
      else resolve();
    });
  });
  await qmp.execute('drive-backup', { device, target, sync: 'full', format: 'raw', 'job-id': 'copy-media' });
  await done;
  return readFile(target);
}

describe('virtual media over QEMU curl', () => {
  it('inserts into the running VM (QEMU reads the image by ranges), survives a power cycle, and ejects', async () => {
    rig = await agentRig();
    const m = rig.machine as ManagedMachine;
    await m.reset('On');
    const events: string[] = [];
    m.on('media', (s) => events.push(`${s.id}:${s.status}`));
    const state = await m.insertMedia('CD1', `${base}/img.iso`);
    expect(state).toMatchObject({
      id: 'CD1',
      inserted: true,
      status: 'Inserted',
      image: `${base}/img.iso`,
      error: null,
    });
    await withInspect(rig, async (qmp) => {
      expect(cdBlock(await queryBlock(qmp))?.inserted?.file).toContain('/img.iso');
      expect((await copyThroughQemu(qmp, 'ide2-cd0', join(r0(), 'copy.raw'))).equals(image)).toBe(true);
    });
    expect(rangeRequests.length).toBeGreaterThan(0);

    await m.reset('PowerCycle'); // a new QEMU process gets the medium again before it runs
    await withInspect(rig, async (qmp) => {
      expect(cdBlock(await queryBlock(qmp))?.inserted?.file).toContain('/img.iso');
    });

    expect(await m.ejectMedia('CD1')).toMatchObject({ inserted: false, status: 'Ejected', image: null });
    await withInspect(rig, async (qmp) => {
      expect(cdBlock(await queryBlock(qmp))?.inserted).toBeUndefined();
    });
    expect(events).toEqual(['CD1:Inserted', 'CD1:Ejected']);
  });

  it('fails cleanly (Failed + error, never inserted) for a missing image or a server without ranges, on or off', async () => {
    rig = await agentRig();
    const m = rig.machine as ManagedMachine;
    for (const powered of [false, true]) {
      if (powered) {
        await m.reset('On');
        await m.insertMedia('CD1', `${base}/img.iso`); // a good medium first: a failed insert must take it out
      }
      await expect(m.insertMedia('CD1', `${base}/missing.iso`)).rejects.toMatchObject({ code: 'media-failed' });
      expect(m.media().find((x) => x.id === 'CD1')).toMatchObject({ inserted: false, status: 'Failed' });
      expect(m.media().find((x) => x.id === 'CD1')?.error).toMatch(/404/);
      await expect(m.insertMedia('CD1', `${base}/no-range.iso`)).rejects.toMatchObject({ code: 'media-failed' });
      expect(m.media().find((x) => x.id === 'CD1')).toMatchObject({ inserted: false, status: 'Failed' });
      expect(m.media().find((x) => x.id === 'CD1')?.error).toMatch(/range/i);
      if (powered)
        await withInspect(rig, async (qmp) => {
          expect(cdBlock(await queryBlock(qmp))?.inserted).toBeUndefined();
        });
    }
    await expect(m.insertMedia('CD1', 'file:///etc/passwd')).rejects.toMatchObject({ code: 'invalid' });
    await expect(m.insertMedia('CD1', 'not a url')).rejects.toMatchObject({ code: 'invalid' });
    await expect(m.insertMedia('CD1', `${base}/img.iso`, { writeProtected: false })).rejects.toMatchObject({
      code: 'invalid',
    });
  });

  it('an image inserted while off is plugged at power on; USB1 is hot-plugged as a removable disk and unplugged', async () => {
    rig = await agentRig();
    const m = rig.machine as ManagedMachine;
    expect(await m.insertMedia('CD1', `${base}/img.iso`)).toMatchObject({ inserted: true, status: 'Inserted' });
    await m.reset('On');
    await withInspect(rig, async (qmp) => {
      expect(cdBlock(await queryBlock(qmp))?.inserted?.file).toContain('/img.iso');
    });
    expect(await m.insertMedia('USB1', `${base}/img.iso`)).toMatchObject({ inserted: true, status: 'Inserted' });
    const usbPlugged = async (qmp: QmpClient) =>
      (await qmp.execute<Array<{ name: string }>>('qom-list', { path: '/machine/peripheral' })).some(
        (p) => p.name === 'usb-media-dev0',
      );
    await withInspect(rig, async (qmp) => expect(await usbPlugged(qmp)).toBe(true));
    expect(await m.ejectMedia('USB1')).toMatchObject({ inserted: false, status: 'Ejected' });
    await withInspect(rig, async (qmp) => expect(await usbPlugged(qmp)).toBe(false));
  });
});
