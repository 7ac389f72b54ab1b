// The live channel in Debian's headless chromium against the real local stack: two pages of
// alice follow each other without a reload or a poll; bob gets nothing of alice's, tom no
// job events, and dana sees adam's job cancel as it happens; a lost connection reconnects
// and the views catch up; no ticket, no channel. Measured latencies go to the test output
// (the target, within a second, is held by make bench).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { base, output, launch } from './browser.mjs';

// Demo data (tools/local/demodata/demodata.go) that no other browser test touches.
const alicePaused = 'a11ce000-0000-4000-8000-000000000003';
const bobPaused = 'b0b00000-0000-4000-8000-000000000002';
const jobInProgress = '0b000000-0000-4000-8000-000000000004';

let browser;
const latencies = {};
before(async () => {
  browser = await launch();
});
after(async () => {
  writeFileSync(`${output}/live-latency.json`, JSON.stringify(latencies, null, 2));
  await browser?.close();
});

/** A page signed in as sub whose WebSocket frames are recorded in page.frames. */
async function livePage(sub, hash = '') {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.frames = [];
  page.on('websocket', (ws) => ws.on('framereceived', (f) => page.frames.push(String(f.payload))));
  await page.goto(base + '/console');
  await page.getByRole('button', { name: `Sign in as ${sub}` }).click();
  await page.getByRole('heading', { name: 'Your interviews' }).waitFor();
  if (hash) await page.goto(`${base}/console#${hash}`);
  await live(page);
  return page;
}

const live = (page) => page.locator('[data-live-status="live"]').waitFor();
const row = (page, id, status) => page.locator(`li[data-session-id="${id}"]${status ? `[data-status="${status}"]` : ''}`);
const fed = (page, type, id) => page.locator(`.events li[data-event-type="${type}"][data-entity-id="${id}"]`).first();

/** The live messages a page received. */
const messages = (page) => page.frames.map((f) => JSON.parse(f)).filter((m) => m.eventId);

async function token(sub, roles = []) {
  const res = await fetch(base + '/_local/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ sub, roles }),
  });
  assert.equal(res.status, 200);
  return (await res.json()).token;
}

async function act(sub, roles, path, body) {
  const res = await fetch(`${base}/api${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${await token(sub, roles)}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
  assert.equal(res.status, 200, `${sub} POST ${path}: ${await res.text()}`);
}

/** The time from an action's response on one page to what it shows on another. */
async function timed(name, action, appears) {
  const start = await action();
  await appears.waitFor();
  const ms = Date.now() - start;
  (latencies[name] ??= []).push(ms);
  return ms;
}

test('two pages of alice: an action in one shows in the other, without a reload or a poll', async () => {
  const detail = await livePage('alice', `/interviews/${alicePaused}`);
  const list = await livePage('alice');
  await row(list, alicePaused, 'paused').waitFor();
  await detail.getByRole('heading', { name: 'Go concurrency deep dive' }).waitFor();

  // From here on the list page must neither reload nor call the API.
  await list.evaluate(() => (window.stillTheSamePage = true));
  const calls = [];
  list.on('request', (r) => r.url().includes('/api/') && calls.push(`${r.method()} ${r.url()}`));

  const click = (name, path) => async () => {
    const [res] = await Promise.all([
      detail.waitForResponse((r) => r.url().endsWith(path) && r.request().method() === 'POST'),
      detail.getByRole('button', { name }).click(),
    ]);
    assert.equal(res.status(), 200);
    return Date.now();
  };
  const resumed = await timed('other page, resume', click('Resume', `/${alicePaused}/resume`), row(list, alicePaused, 'active'));
  const paused = await timed('other page, pause', click('Pause', `/${alicePaused}/pause`), row(list, alicePaused, 'paused'));
  await fed(list, 'InterviewPaused', alicePaused).waitFor();
  await list.screenshot({ path: `${output}/live-other-page.png`, fullPage: true });

  assert.equal(await list.evaluate(() => window.stillTheSamePage), true, 'the list page was reloaded');
  assert.deepEqual(calls, [], 'the list page called the API instead of following the channel');
  // The detail page follows its own actions' events too, by version.
  const seen = messages(detail).filter((m) => m.entityId === alicePaused).map((m) => `${m.type}@${m.version}`);
  assert.equal(seen.length, 2, `the acting page received ${seen}`);
  console.log(`  other page shows the resume after ${resumed} ms, the pause after ${paused} ms`);
  await detail.context().close();
  await list.context().close();
});

test("bob gets nothing of alice's, tom no job events; dana sees adam's job cancel live", async () => {
  const alice = await livePage('alice');
  const bob = await livePage('bob');
  const tom = await livePage('tom');
  const dana = await livePage('dana', `/jobs/${jobInProgress}`);
  const job = dana.locator(`article[data-job-id="${jobInProgress}"]`);
  await job.waitFor();
  assert.equal(await job.getAttribute('data-status'), 'InProgress');

  // alice's transition reaches alice; bob's own, sent after it, reaches bob: had alice's
  // been sent to bob, it would have come first.
  await act('alice', [], `/interviews/${alicePaused}/resume`);
  await row(alice, alicePaused, 'active').waitFor();
  await act('bob', [], `/interviews/${bobPaused}/resume`);
  await row(bob, bobPaused, 'active').waitFor();
  const bobGot = messages(bob);
  assert.ok(bobGot.some((m) => m.entityId === bobPaused), 'bob received his own event');
  assert.deepEqual(bobGot.filter((m) => m.detail.ownerId !== 'bob'), [], "bob received someone else's event");
  assert.equal(await fed(bob, 'InterviewResumed', alicePaused).count(), 0);

  const cancelled = await timed(
    'dispatcher, job cancel',
    async () => {
      await act('adam', ['Admin'], `/jobs/${jobInProgress}/cancel`, { reason: 'Customer moved' });
      return Date.now();
    },
    dana.locator(`article[data-job-id="${jobInProgress}"][data-status="Cancelled"]`),
  );
  await fed(dana, 'JobCancelled', jobInProgress).waitFor();
  assert.match(await job.innerText(), /Customer moved/);
  assert.match(await job.innerText(), /by adam/);
  await dana.screenshot({ path: `${output}/live-dispatcher.png`, fullPage: true });

  // tom, alice and bob are not entitled to job events: bob's own event came after any
  // earlier one; for this one, give the channel the time dana's page took, and twice more.
  await new Promise((r) => setTimeout(r, 2 * cancelled + 500));
  for (const [who, page] of [['tom', tom], ['alice', alice], ['bob', bob]]) {
    assert.deepEqual(messages(page).filter((m) => m.entity === 'job'), [], `${who} received a job event`);
    assert.equal(await page.locator('.events li[data-event-type="JobCancelled"]').count(), 0);
  }
  console.log(`  dana's open job shows adam's cancel after ${cancelled} ms`);
  for (const p of [alice, bob, tom, dana]) await p.context().close();
});

test('a lost connection reconnects with backoff, and the list catches up on what it missed', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  // The channel goes through this route, which can drop connections and refuse new ones.
  let up = true;
  const open = [];
  await page.routeWebSocket(/\/live$/, (ws) => {
    if (!up) return ws.close({ code: 1006, reason: 'network down' });
    open.push(ws);
    ws.connectToServer();
  });
  const tickets = [];
  page.on('request', (r) => r.url().endsWith('/api/live/tickets') && tickets.push(Date.now()));
  await page.goto(base + '/console');
  await page.getByRole('button', { name: 'Sign in as alice' }).click();
  await live(page);
  const before = await row(page, alicePaused).getAttribute('data-status');
  const after = before === 'active' ? 'paused' : 'active';

  up = false;
  for (const ws of open) await ws.close({ code: 1006, reason: 'network down' });
  await page.locator('[data-live-status="offline"]').waitFor();
  await page.screenshot({ path: `${output}/live-reconnecting.png`, fullPage: true });
  // Changed while the page is away: its event goes out, and reaches no connection of it.
  await act('alice', [], `/interviews/${alicePaused}/${after === 'paused' ? 'pause' : 'resume'}`);
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(await row(page, alicePaused).getAttribute('data-status'), before);

  const refetched = page.waitForRequest((r) => r.method() === 'GET' && r.url().includes('/api/interviews?'));
  up = true;
  await live(page);
  await refetched;
  await row(page, alicePaused, after).waitFor();
  assert.ok(tickets.length >= 3, `each attempt asks for a fresh ticket (${tickets.length} asked)`);
  const gaps = tickets.slice(1).map((t, i) => t - tickets[i]);
  assert.ok(gaps.every((g) => g >= 200), `reconnects back off (gaps ${gaps} ms)`);
  await context.close();
});

test('the channel refuses a page without a ticket, or with a forged one', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(base + '/console');
  const outcome = await page.evaluate(async () => {
    const attempt = (protocols) =>
      new Promise((resolve) => {
        const ws = new WebSocket(`ws://${location.host}/live`, protocols);
        ws.onopen = () => resolve('opened');
        ws.onclose = () => resolve('refused');
      });
    const forged = 'A'.repeat(43);
    return {
      none: await attempt(undefined),
      noTicket: await attempt(['lifecycle.live.v1']),
      forged: await attempt(['lifecycle.live.v1', `ticket.${forged}`]),
    };
  });
  assert.deepEqual(outcome, { none: 'refused', noTicket: 'refused', forged: 'refused' });
  await context.close();
});
