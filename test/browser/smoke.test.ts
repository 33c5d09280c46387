import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_FLAGS, CHROMIUM_PATH, requireChromium } from '../support/browser.ts';

// Proves the browser bed is real: Debian's Chromium runs headless through playwright-core,
// loads a page from a local server, runs its script (which calls back to the server), and screenshots it.

const viewport = { width: 800, height: 600 };
const screenshotPath = resolve(import.meta.dirname, '../../test-results/browser-smoke.png');

const page = `<!doctype html>
<html><head><title>qemu-bmc smoke</title></head>
<body style="font: 32px sans-serif">
  <h1 id="static">Static heading</h1>
  <p id="dynamic">waiting</p>
  <script>
    fetch('/api/answer').then((r) => r.json()).then((body) => {
      document.getElementById('dynamic').textContent = 'server says ' + body.answer;
    });
  </script>
</body></html>`;

let server: Server;
let baseUrl: string;
let userDataDir: string;
let context: BrowserContext | undefined;

beforeAll(async () => {
  requireChromium();
  server = createServer((request, response) => {
    if (request.url === '/') {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
    } else if (request.url === '/api/answer') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ answer: 42 }));
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  userDataDir = mkdtempSync(join(tmpdir(), 'qemu-bmc-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport,
  });
});

afterAll(async () => {
  await context?.close();
  await new Promise((done) => server?.close(done));
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

describe('Chromium', () => {
  it('renders a local page, runs its script, and takes a screenshot', async () => {
    if (!context) throw new Error('Chromium did not start');
    const tab = await context.newPage();
    await tab.goto(baseUrl);
    expect(await tab.title()).toBe('qemu-bmc smoke');
    await tab.locator('#dynamic', { hasText: 'server says 42' }).waitFor({ timeout: 10_000 });
    expect(await tab.locator('#static').textContent()).toBe('Static heading');

    mkdirSync(resolve(screenshotPath, '..'), { recursive: true });
    await tab.screenshot({ path: screenshotPath });
    const png = readFileSync(screenshotPath);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    // IHDR holds the image size right after the signature and chunk header.
    expect({ width: png.readUInt32BE(16), height: png.readUInt32BE(20) }).toEqual(viewport);
    await tab.close();
  });
});
