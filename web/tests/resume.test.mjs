// A pause until a time, in headless chromium against the real local stack (whose minimum
// lead tests/browser sets to two seconds; make run keeps the product's minute): alice pauses
// a session of hers until a few seconds ahead from its page, which then says when it resumes;
// at that time the session resumes itself, and her open page shows it without a reload,
// with the scheduler's InterviewResumed in the feed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { base, output, launch } from './browser.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

async function token(sub) {
  const res = await fetch(base + '/_local/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ sub, roles: [] }),
  });
  assert.equal(res.status, 200);
  return (await res.json()).token;
}

test('a session paused until a time resumes itself on the open page', async () => {
  const alice = await token('alice');
  const res = await fetch(`${base}/api/interviews`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${alice}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ title: 'Pause until a time', topicIds: ['topic-1'], interviewerId: 'interviewer-aria' }),
  });
  const created = await res.json();
  assert.equal(res.status, 201, JSON.stringify(created));
  const { id } = created;

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC' });
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  await page.goto(base + '/console');
  await page.getByRole('button', { name: 'Sign in as alice' }).click();
  await page.getByRole('heading', { name: 'Your interviews' }).waitFor();
  await page.goto(`${base}/console#/interviews/${id}`);
  await page.locator('[data-live-status="live"]').waitFor();

  await page.getByRole('button', { name: 'Pause until…' }).click();
  // Six seconds ahead, to the second (the page's zone is UTC): past the stack's two-second lead.
  const at = new Date(Math.ceil(Date.now() / 1000) * 1000 + 6000);
  await page.getByLabel('Resumes by itself at').fill(at.toISOString().slice(0, 19));
  await page.getByRole('button', { name: 'Pause until then' }).click();
  const planned = page.locator('dd[data-field="resume-at"]');
  await planned.waitFor();
  await page.locator('.outcome .ok', { hasText: 'paused until' }).waitFor();
  await page.screenshot({ path: `${output}/resume-planned.png` });

  // At that time the session resumes itself: the page learns it live.
  await page.locator('.badge-active').first().waitFor();
  await planned.waitFor({ state: 'detached' });
  assert.ok(Date.now() >= at.getTime(), 'resumed before its time');
  await page.locator(`.events li[data-event-type="InterviewResumed"][data-entity-id="${id}"]`).first().waitFor();
  await page.screenshot({ path: `${output}/resume-done.png` });

  const after = await fetch(`${base}/api/interviews/${id}`, { headers: { Authorization: `Bearer ${alice}` } });
  const session = await after.json();
  assert.equal(session.status, 'active');
  assert.equal(session.resumeAt, undefined);
  await context.close();
});
