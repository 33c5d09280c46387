// Debian's Chromium, driven headless by playwright-core (no browser download). Without the background-networking
// flags Chromium keeps trying to reach Google's hosts, which this machine's closed network refuses.
import { requireFile } from './require.ts';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function requireChromium(): string {
  return requireFile(CHROMIUM_PATH, 'bash test/env/apt.sh');
}
