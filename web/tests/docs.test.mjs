// The API docs page renders openapi.yaml and lists every route the functions serve.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { base, output, launch } from './browser.mjs';

// ROUTES is the route table as the document lists it: "METHOD /path" without the /api server.
const routes = JSON.parse(process.env.ROUTES || '[]');

test('GET /openapi.yaml serves the document', async () => {
  const res = await fetch(base + '/openapi.yaml');
  assert.equal(res.status, 200);
  const text = await res.text();
  assert.match(text, /^openapi: 3\.1\./m);
});

test('/docs lists every route', async () => {
  assert.ok(routes.length > 0, 'ROUTES must list the routes');
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(base + '/docs');
    await page.waitForSelector('.opblock-summary-path', { timeout: 20000 });
    const listed = await page.$$eval('.opblock', (blocks) => blocks.map((b) => {
      const method = b.querySelector('.opblock-summary-method')?.textContent.trim();
      const path = b.querySelector('.opblock-summary-path')?.getAttribute('data-path');
      return `${method} ${path}`;
    }));
    for (const route of routes) {
      assert.ok(listed.includes(route), `${route} is not listed on /docs (listed: ${listed.join(', ')})`);
    }
    assert.equal(await page.locator('.info .title').first().innerText().then((t) => t.includes('lifecycle API')), true);
    await page.screenshot({ path: `${output}/docs.png`, fullPage: true });
  } finally {
    await browser.close();
  }
});
