// A page on another origin calls the API as a product frontend would: the preflight of
// Authorization, Idempotency-Key and X-Correlation-Id is answered as the HTTP API's
// CorsConfiguration answers it, and the page can read the headers the API exposes. A page
// on an origin the configuration does not list is refused by the browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { base, output, launch } from './browser.mjs';

const pageURL = process.env.CORS_PAGE_URL;
const otherURL = process.env.CORS_OTHER_URL;
const token = process.env.CORS_TOKEN;
const session = process.env.CORS_SESSION;
const missing = process.env.CORS_MISSING;

// call runs in the page: a GET with Authorization and X-Correlation-Id, and a POST with
// Idempotency-Key and a JSON body, each needing a preflight.
async function call({ api, token, session, missing }) {
  const out = {};
  try {
    const get = await fetch(`${api}/api/interviews/${session}`, {
      headers: { Authorization: `Bearer ${token}`, 'X-Correlation-Id': 'cors-get-1' },
    });
    out.get = {
      status: get.status,
      etag: get.headers.get('ETag'),
      correlation: get.headers.get('X-Correlation-Id'),
      status_: (await get.json()).status,
    };
    const post = await fetch(`${api}/api/interviews/${missing}/cancel`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${token}`, 'Content-Type': 'application/json',
        'Idempotency-Key': 'cors-post-1', 'X-Correlation-Id': 'cors-post-1',
      },
      body: JSON.stringify({ reason: 'cross-origin check' }),
    });
    const body = await post.json();
    out.post = { status: post.status, error: body.error, requestId: body.requestId, correlation: post.headers.get('X-Correlation-Id') };
  } catch (e) {
    out.error = String(e);
  }
  return out;
}

test('a page on an allowed origin calls the API across origins', async () => {
  assert.ok(pageURL && otherURL && token, 'CORS_PAGE_URL, CORS_OTHER_URL and CORS_TOKEN must be set');
  assert.notEqual(new URL(pageURL).origin, new URL(base).origin, 'the page must be on another origin than the API');
  const browser = await launch();
  try {
    const page = await browser.newPage();
    await page.goto(pageURL);
    const out = await page.evaluate(call, { api: base, token, session, missing });
    assert.equal(out.error, undefined, `the browser refused the call: ${out.error}`);
    assert.equal(out.get.status, 200);
    assert.equal(out.get.status_, 'completed');
    assert.match(out.get.etag ?? '', /^"\d+"$/, 'ETag is exposed to the page');
    assert.equal(out.get.correlation, 'cors-get-1', 'X-Correlation-Id is exposed to the page');
    assert.equal(out.post.status, 404);
    assert.equal(out.post.error, 'Interview session not found');
    assert.equal(out.post.correlation, 'cors-post-1');
    assert.ok(out.post.requestId && out.post.requestId !== 'cors-post-1', 'requestId is the request id, not the correlation id');
    await page.screenshot({ path: `${output}/cors.png` });
  } finally {
    await browser.close();
  }
});

test('a page on an origin the configuration does not list is refused', async () => {
  const browser = await launch();
  try {
    const page = await browser.newPage();
    await page.goto(otherURL);
    const out = await page.evaluate(call, { api: base, token, session, missing });
    assert.match(out.error ?? '', /TypeError|Failed to fetch/, `the call from ${otherURL} was not refused: ${JSON.stringify(out)}`);
  } finally {
    await browser.close();
  }
});
