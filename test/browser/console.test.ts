import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { ADMIN_PASSWORD, ADMIN_USER, type ConsoleAgent, startConsoleAgent } from '../integration/console/agent.ts';
import {
  basic,
  closeSocket,
  https,
  metric,
  openConsoleSocket,
  type UpgradeOutcome,
  until,
} from '../integration/console/clients.ts';
import { CHROMIUM_FLAGS, CHROMIUM_PATH, requireChromium } from '../support/browser.ts';

// The noVNC console end to end: a real agent (managed mode, TCG) whose VM boots the guest fixture, which prints a
// ticking counter on the VGA console; headless Chromium opens https://127.0.0.1:<port>/novnc/ with the BMC
// credentials, noVNC's RFB client connects through /websockify to QEMU's VNC server, and the canvas must show the
// guest's screen changing. Without credentials every route is 401 and the WebSocket upgrade is refused.

const artifacts = resolve(import.meta.dirname, '../../test-results');

let agent: ConsoleAgent | undefined;
const contexts: BrowserContext[] = [];
const userDirs: string[] = [];

function running(): ConsoleAgent {
  if (!agent) throw new Error('the agent did not start');
  return agent;
}

async function browser(credentials: boolean): Promise<BrowserContext> {
  const dir = mkdtempSync(join(tmpdir(), 'qemu-bmc-chromium-'));
  userDirs.push(dir);
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1024, height: 768 },
    ignoreHTTPSErrors: true,
    ...(credentials ? { httpCredentials: { username: ADMIN_USER, password: ADMIN_PASSWORD } } : {}),
  });
  contexts.push(context);
  return context;
}

interface CanvasSample {
  width: number;
  height: number;
  /** Distinct colours among sampled pixels: 1 means a blank screen. */
  colours: number;
  /** FNV-1a over every pixel. */
  hash: number;
}

/** Reads noVNC's canvas in the page (a string, so this file needs no DOM typings). */
function sampleCanvas(page: Page): Promise<CanvasSample | null> {
  return page.evaluate<CanvasSample | null>(`(() => {
    const canvas = document.querySelector('#screen canvas');
    if (!canvas || canvas.width === 0 || canvas.height === 0) return null;
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let hash = 0x811c9dc5;
    const colours = new Set();
    for (let i = 0; i < pixels.length; i += 4) {
      const rgb = (pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2];
      hash = Math.imul(hash ^ rgb, 0x01000193) >>> 0;
      if (i % 64 === 0) colours.add(rgb);
    }
    return { width: canvas.width, height: canvas.height, colours: colours.size, hash };
  })()`);
}

beforeAll(async () => {
  requireChromium();
  mkdirSync(artifacts, { recursive: true });
  agent = await startConsoleAgent();
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  for (const dir of userDirs) rmSync(dir, { recursive: true, force: true });
  await agent?.stop();
});

describe('noVNC console in Chromium', () => {
  it('logs in, connects through /websockify, and shows the guest screen changing', async () => {
    const { url } = running();
    const page = await (await browser(true)).newPage();
    const response = await page.goto(`${url}/novnc/`);
    expect(response?.status()).toBe(200);
    // /novnc/ → /novnc/vnc.html → /novnc/vnc.html?ticket=<one-time ticket>
    expect(new URL(page.url()).pathname).toBe('/novnc/vnc.html');
    expect(new URL(page.url()).searchParams.get('ticket')).toMatch(/^[\w-]{32}$/);

    await page.locator('body[data-state="connected"]').waitFor({ timeout: 60_000 });
    expect(await page.locator('#status').textContent()).toBe('connected');
    expect(await metric(url, 'qemubmc_console_active')).toBe(1);

    // The guest has drawn something (SeaBIOS, then the ticking text): more than one colour on the canvas.
    let first: CanvasSample | null = null;
    await until(
      'the guest screen to show text',
      async () => {
        first = await sampleCanvas(page);
        return first !== null && first.colours > 1;
      },
      120_000,
    );
    await page.screenshot({ path: join(artifacts, 'console-novnc-1.png') });
    const before = first as CanvasSample | null;
    if (!before) throw new Error('no canvas');
    expect(before.width).toBeGreaterThanOrEqual(640);

    // The guest keeps writing to its screen (SeaBIOS, then its ticking counter): the pixels change while we watch,
    // more than once.
    const seen = new Set([before.hash]);
    let latest: CanvasSample | null = null;
    await until(
      'the guest screen to change twice',
      async () => {
        latest = await sampleCanvas(page);
        if (latest !== null && latest.colours > 1) seen.add(latest.hash);
        return seen.size >= 3;
      },
      180_000,
    );
    await page.screenshot({ path: join(artifacts, 'console-novnc-2.png') });
    expect(seen.size).toBeGreaterThanOrEqual(3);
    expect((latest as CanvasSample | null)?.hash).not.toBe(before.hash);

    await page.close();
    await until(
      'the console gauge to drop to 0',
      async () => (await metric(url, 'qemubmc_console_active')) === 0,
      30_000,
    );
  });

  it('without credentials: /novnc/ is 401 and a same-origin page cannot open the WebSocket', async () => {
    const { url, redfishPort } = running();
    const page = await (await browser(false)).newPage();
    // Chromium without credentials gets the 401 (page.request shares the browser context, and has no credentials).
    const denied = await page.request.get(`${url}/novnc/`, { maxRedirects: 0 });
    expect(denied.status()).toBe(401);
    expect(denied.headers()['www-authenticate']).toMatch(/^Basic /);
    // A page of the same origin that needs no login (the Redfish service root), whose script tries the console.
    expect((await page.goto(`${url}/redfish/v1`))?.status()).toBe(200);
    const outcome = await page.evaluate<string>(`new Promise((resolve) => {
      const ws = new WebSocket('wss://127.0.0.1:${redfishPort}/websockify');
      ws.binaryType = 'arraybuffer';
      ws.onopen = () => resolve('open');
      ws.onmessage = () => resolve('message');
      ws.onclose = (e) => resolve('closed ' + e.code);
      setTimeout(() => resolve('timeout'), 20000);
    })`);
    expect(outcome).toBe('closed 1006');
    await page.close();
  });
});

describe('console HTTP routes and WebSocket upgrade', () => {
  const auth = () => ({ Authorization: basic(ADMIN_USER, ADMIN_PASSWORD) });

  it('every route answers 401 without credentials or with a wrong password', async () => {
    const { url } = running();
    for (const path of ['/novnc', '/novnc/', '/novnc/vnc.html', '/novnc/vnc.html?ticket=x', '/novnc/core/rfb.js']) {
      const anonymous = await https(`${url}${path}`);
      expect(anonymous.status, path).toBe(401);
      expect(anonymous.headers['www-authenticate'], path).toMatch(/^Basic /);
      expect((await https(`${url}${path}`, { headers: { Authorization: basic(ADMIN_USER, 'wrong') } })).status).toBe(
        401,
      );
    }
    const page = await https(`${url}/novnc/core/rfb.js`, { headers: auth() });
    expect(page.status).toBe(200);
    expect(page.body).toContain('export default class RFB');
  });

  it('refuses the upgrade without credentials, with a wrong password, or with an invalid or used ticket', async () => {
    const { url, redfishPort } = running();
    const ws = `wss://127.0.0.1:${redfishPort}/websockify`;
    const refusedBefore = (await metric(url, 'qemubmc_console_connections_total{result="unauthorized"}')) ?? 0;
    expect(await openConsoleSocket(ws)).toEqual({ kind: 'refused', status: 401 });
    expect(await openConsoleSocket(ws, { Authorization: basic(ADMIN_USER, 'wrong') })).toEqual({
      kind: 'refused',
      status: 401,
    });
    expect(await openConsoleSocket(`${ws}?ticket=not-a-ticket`)).toEqual({ kind: 'refused', status: 401 });

    // A ticket from the authenticated page works once, without other credentials; the second use is refused.
    const redirect = await https(`${url}/novnc/vnc.html`, { headers: auth() });
    expect(redirect.status).toBe(302);
    const ticket = new URL(String(redirect.headers.location), url).searchParams.get('ticket');
    expect(ticket).toBeTruthy();
    const first = await openConsoleSocket(`${ws}?ticket=${ticket}`);
    expect(first.kind).toBe('open');
    if (first.kind === 'open') {
      expect(first.greeting).toMatch(/^RFB 003\.00\d\n/);
      await closeSocket(first.ws);
    }
    expect(await openConsoleSocket(`${ws}?ticket=${ticket}`)).toEqual({ kind: 'refused', status: 401 });
    expect(await metric(url, 'qemubmc_console_connections_total{result="unauthorized"}')).toBe(refusedBefore + 4);
  });

  it('accepts Basic credentials and a Redfish session token; refuses a page from another origin', async () => {
    const { url, redfishPort } = running();
    const ws = `wss://127.0.0.1:${redfishPort}/websockify`;
    const withBasic = await openConsoleSocket(ws, auth());
    expect(withBasic.kind).toBe('open');
    if (withBasic.kind === 'open') await closeSocket(withBasic.ws);

    const login = await https(`${url}/redfish/v1/SessionService/Sessions`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ UserName: ADMIN_USER, Password: ADMIN_PASSWORD }),
    });
    expect(login.status).toBe(201);
    const token = String(login.headers['x-auth-token']);
    const withToken = await openConsoleSocket(ws, { 'X-Auth-Token': token });
    expect(withToken.kind).toBe('open');
    if (withToken.kind === 'open') await closeSocket(withToken.ws);

    // Cross-site WebSocket hijacking: valid credentials, but sent by a page from elsewhere.
    expect(await openConsoleSocket(ws, { ...auth(), Origin: 'https://evil.example' })).toEqual({
      kind: 'refused',
      status: 403,
    });
    const same = await openConsoleSocket(ws, { ...auth(), Origin: `https://127.0.0.1:${redfishPort}` });
    expect(same.kind).toBe('open');
    if (same.kind === 'open') await closeSocket(same.ws);
  });

  it('enforces the concurrent console limit (503) and reports it in /metrics', async () => {
    const { url, redfishPort } = running();
    const ws = `wss://127.0.0.1:${redfishPort}/websockify`;
    const limit = await metric(url, 'qemubmc_console_limit');
    expect(limit).toBeGreaterThanOrEqual(1);
    const limitedBefore = (await metric(url, 'qemubmc_console_connections_total{result="limit"}')) ?? 0;
    const open: WebSocket[] = [];
    try {
      for (let i = 0; i < (limit ?? 0); i++) {
        const outcome: UpgradeOutcome = await openConsoleSocket(ws, auth());
        if (outcome.kind !== 'open') throw new Error(`console ${i + 1} of ${limit} refused with ${outcome.status}`);
        open.push(outcome.ws);
      }
      expect(await metric(url, 'qemubmc_console_active')).toBe(limit);
      expect(await openConsoleSocket(ws, auth())).toEqual({ kind: 'refused', status: 503 });
      expect(await metric(url, 'qemubmc_console_connections_total{result="limit"}')).toBe(limitedBefore + 1);

      // Closing one frees its slot.
      await closeSocket(open.pop() as WebSocket);
      await until(
        'a console slot to be free',
        async () => (await metric(url, 'qemubmc_console_active')) === (limit ?? 0) - 1,
        30_000,
      );
      const again = await openConsoleSocket(ws, auth());
      expect(again.kind).toBe('open');
      if (again.kind === 'open') open.push(again.ws);
    } finally {
      await Promise.all(open.map(closeSocket));
    }
    await until('every console to close', async () => (await metric(url, 'qemubmc_console_active')) === 0, 30_000);
    expect(await metric(url, 'qemubmc_console_bytes_total{direction="to_browser"}')).toBeGreaterThan(0);
  });
});
