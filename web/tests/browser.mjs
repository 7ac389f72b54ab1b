// Shared set-up for the browser tests: Debian's chromium driven by playwright-core, with
// the flags this machine needs (no sandbox as root, no background network traffic).
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

export const base = process.env.BASE_URL;
export const output = process.env.OUTPUT_DIR || 'test-output/browser';

if (!base) {
  throw new Error('BASE_URL is not set: run the browser tests through `go test ./tests/browser` or `make test`');
}
mkdirSync(output, { recursive: true });

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}
