// The console at /console, driven in Debian's headless chromium against the real local
// stack: seed 001's button states, feedback and error handling on pause, resume and cancel;
// the API's 403 on a tampered URL; an expired token back to sign-in; a dispatcher cancelling
// an assigned job; each action's event arriving in the feed. A screenshot of every screen
// goes to the test output.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { base, output, launch } from './browser.mjs';

// Demo data (tools/local/demodata/demodata.go): fixed ids.
const alice = {
  active: 'a11ce000-0000-4000-8000-000000000001',
  active2: 'a11ce000-0000-4000-8000-000000000002',
  active3: 'a11ce000-0000-4000-8000-000000000006',
  paused2: 'a11ce000-0000-4000-8000-000000000007',
};
const bobActive = 'b0b00000-0000-4000-8000-000000000001';
const assignedJob = '0b000000-0000-4000-8000-000000000003';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  return page;
}

async function signIn(page, sub) {
  await page.goto(base + '/console');
  await page.getByRole('button', { name: `Sign in as ${sub}` }).click();
  await page.getByRole('heading', { name: 'Your interviews' }).waitFor();
}

const card = (page, id) => page.locator(`li[data-session-id="${id}"]`);

/** Waits for the event feed to show an event of type about entity. */
async function eventArrives(page, type, entity) {
  const item = page.locator(`.events li[data-event-type="${type}"][data-entity-id="${entity}"]`).first();
  await item.waitFor({ timeout: 30000 });
  return item;
}

/** A dev token from the local server, as the sign-in page gets one. */
async function token(sub, roles = [], ttlSeconds = 0) {
  const res = await fetch(base + '/_local/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ sub, roles, ttlSeconds }),
  });
  assert.equal(res.status, 200);
  return res.json();
}

async function apiGet(path, tok) {
  const res = await fetch(base + '/api' + path, { headers: { Authorization: `Bearer ${tok}` } });
  return { status: res.status, body: await res.json() };
}

test('the sign-in page offers the demo users', async () => {
  const page = await newPage();
  await page.goto(base + '/console');
  for (const sub of ['alice', 'bob', 'dana', 'adam', 'tom']) {
    await page.getByRole('button', { name: `Sign in as ${sub}` }).waitFor();
  }
  await page.getByLabel(/Bearer token/).waitFor();
  await page.screenshot({ path: `${output}/console-sign-in.png`, fullPage: true });
  await page.context().close();
});

test('pause: the button is busy during the call, then the row is paused and offers Resume', async () => {
  const page = await newPage();
  await signIn(page, 'alice');
  const row = card(page, alice.active);
  await row.waitFor();
  assert.equal(await row.getAttribute('data-status'), 'active');
  assert.equal(await row.getByRole('button', { name: 'Resume' }).count(), 0, 'an active row offers no Resume');

  // Hold the answer back a moment, to see the loading state.
  let release;
  const held = new Promise((r) => (release = r));
  await page.route('**/api/interviews/*/pause', async (route) => {
    await held;
    await route.continue();
  });
  await row.getByRole('button', { name: 'Pause', exact: true }).click();
  const busy = row.getByRole('button', { name: 'Pausing…' });
  await busy.waitFor();
  assert.equal(await busy.isDisabled(), true, 'the button is disabled during the call');
  assert.equal(await busy.getAttribute('aria-busy'), 'true');
  assert.equal(await row.getByRole('button', { name: 'Cancel' }).isDisabled(), true, 'so are the row\'s other actions');
  release();

  await page.locator(`li[data-session-id="${alice.active}"][data-status="paused"]`).waitFor();
  await row.getByText('Interview paused.').waitFor();
  await row.getByRole('button', { name: 'Resume' }).waitFor();
  assert.equal(await row.getByRole('button', { name: 'Pause', exact: true }).count(), 0, 'a paused row offers no Pause');
  assert.equal(await row.getByRole('button', { name: 'Cancel' }).isEnabled(), true, 'a paused interview can still be cancelled');
  await page.unroute('**/api/interviews/*/pause');

  await eventArrives(page, 'InterviewPaused', alice.active);
  await page.screenshot({ path: `${output}/console-interviews.png`, fullPage: true });

  // Resume, the same way back.
  await row.getByRole('button', { name: 'Resume' }).click();
  await page.locator(`li[data-session-id="${alice.active}"][data-status="active"]`).waitFor();
  await row.getByText('Interview resumed.').waitFor();
  await row.getByRole('button', { name: 'Pause', exact: true }).waitFor();
  assert.equal(await row.getByRole('button', { name: 'Resume' }).count(), 0);
  await eventArrives(page, 'InterviewResumed', alice.active);
  await page.context().close();
});

test('cancel asks for a reason (by keyboard), and a cancelled row offers nothing', async () => {
  const page = await newPage();
  await signIn(page, 'alice');
  // The session is on the second page: five per page.
  await page.locator('li[data-session-id]').nth(4).waitFor();
  assert.equal(await page.locator('li[data-session-id]').count(), 5);
  await page.getByRole('button', { name: 'Load more' }).click();
  const row = card(page, alice.active3);
  await row.waitFor();
  assert.equal(await page.locator('li[data-session-id]').count(), 7);

  // Open the dialog with the keyboard; Escape keeps the interview.
  await row.getByRole('button', { name: 'Cancel' }).focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: /Cancel “Distributed systems: consensus”\?/ });
  await dialog.waitFor();
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await row.getAttribute('data-status'), 'active', 'Escape cancels nothing');

  await row.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor();
  await dialog.getByLabel('Reason (optional)').fill('Candidate asked to stop');
  await page.screenshot({ path: `${output}/console-cancel-dialog.png` });
  await dialog.getByRole('button', { name: 'Cancel interview' }).click();

  await page.locator(`li[data-session-id="${alice.active3}"][data-status="cancelled"]`).waitFor();
  await row.getByText('Interview cancelled.').waitFor();
  assert.equal(await row.getByRole('button').count(), 0, 'a cancelled interview offers no action');
  const ev = await eventArrives(page, 'InterviewCancelled', alice.active3);
  assert.match(await ev.innerText(), /Candidate asked to stop/);

  // The session reads back who cancelled it, when, and why.
  await page.goto(`${base}/console#/interviews/${alice.active3}`);
  await page.locator('[data-field="cancel-reason"]').waitFor();
  assert.equal(await page.locator('[data-field="cancel-reason"]').innerText(), 'Candidate asked to stop');
  assert.match(await page.locator('[data-field="cancelled"]').innerText(), /by alice/);
  await page.context().close();
});

test('the status filter lists only sessions in that status', async () => {
  const page = await newPage();
  await signIn(page, 'alice');
  await page.getByLabel('Status').selectOption('paused');
  await page.locator(`li[data-session-id="${alice.paused2}"]`).waitFor();
  const statuses = await page.locator('li[data-session-id]').evaluateAll((els) => els.map((e) => e.dataset.status));
  assert.ok(statuses.length > 0);
  assert.deepEqual([...new Set(statuses)], ['paused']);
  await page.context().close();
});

test('a network error offers a retry that sends the same Idempotency-Key', async () => {
  const page = await newPage();
  await signIn(page, 'alice');
  await page.goto(`${base}/console#/interviews/${alice.paused2}`);
  await page.getByRole('heading', { name: 'Algorithms: graphs' }).waitFor();
  const keys = [];
  await page.route('**/api/interviews/*/resume', async (route) => {
    keys.push(route.request().headers()['idempotency-key']);
    if (keys.length === 1) await route.abort('internetdisconnected');
    else await route.continue();
  });
  await page.getByRole('button', { name: 'Resume' }).click();
  const alert = page.getByRole('alert').filter({ hasText: 'Could not reach the API' });
  await alert.waitFor();
  await page.screenshot({ path: `${output}/console-network-error.png`, fullPage: true });
  await alert.getByRole('button', { name: 'Retry' }).click();
  await page.getByText('Interview resumed.').waitFor();
  await page.getByRole('button', { name: 'Pause', exact: true }).waitFor();
  assert.equal(keys.length, 2);
  assert.ok(keys[0], 'the action sends an Idempotency-Key');
  assert.equal(keys[1], keys[0], 'the retry repeats the same key');
  await page.context().close();
});

test('pausing someone else\'s session by URL tampering shows the 403 message', async () => {
  const page = await newPage();
  await signIn(page, 'alice');
  await page.goto(`${base}/console#/interviews/${alice.active}/pause`);
  await page.getByRole('heading', { name: 'System design: URL shortener' }).waitFor();
  // The id in the URL changed to bob's session.
  await page.goto(`${base}/console#/interviews/${bobActive}/pause`);
  await page.getByRole('alert').filter({ hasText: 'Could not load this interview: Forbidden' }).waitFor();
  const pause = page.getByRole('button', { name: 'Pause', exact: true });
  await pause.click();
  const refused = page.locator('.outcome [role="alert"]');
  await refused.waitFor();
  assert.equal((await refused.innerText()).trim(), 'Forbidden');
  await page.screenshot({ path: `${output}/console-forbidden.png`, fullPage: true });

  const bob = await token('bob');
  const got = await apiGet(`/interviews/${bobActive}`, bob.token);
  assert.equal(got.status, 200);
  assert.equal(got.body.status, 'active', "bob's session is untouched");
  await page.context().close();
});

test('an expired token returns to sign-in', async () => {
  const page = await newPage();
  // Long enough for the list to load even on a loaded machine (the row waits 15 s at most),
  // short enough to wait out.
  const short = await token('alice', [], 20);
  await page.goto(base + '/console');
  await page.getByLabel(/Bearer token/).fill(short.token);
  await page.getByRole('button', { name: 'Use this token' }).click();
  const row = card(page, alice.active2);
  await row.waitFor();
  const wait = new Date(short.expiresAt).getTime() + 1000 - Date.now();
  await new Promise((r) => setTimeout(r, Math.max(0, wait)));

  await row.getByRole('button', { name: 'Pause', exact: true }).click();
  await page.getByRole('alert').filter({ hasText: 'Your session has expired' }).waitFor();
  await page.getByRole('button', { name: 'Sign in as alice' }).waitFor();
  await page.screenshot({ path: `${output}/console-session-expired.png`, fullPage: true });

  const fresh = await token('alice');
  assert.equal((await apiGet(`/interviews/${alice.active2}`, fresh.token)).body.status, 'active', 'the refused pause changed nothing');
  await page.context().close();
});

test('a dispatcher cancels an assigned job, and its assignment shows Cancelled', async () => {
  const page = await newPage();
  await signIn(page, 'dana');
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Jobs' }).click();
  await page.getByRole('link', { name: 'Install smart thermostat' }).click();
  const job = page.locator(`article[data-job-id="${assignedJob}"]`);
  await job.waitFor();
  assert.equal(await job.getAttribute('data-status'), 'Assigned');
  assert.equal(await job.locator('.assignment').getAttribute('data-assignment-status'), 'Confirmed');

  await job.getByRole('button', { name: 'Cancel job' }).click();
  const dialog = page.getByRole('dialog', { name: /Cancel “Install smart thermostat”\?/ });
  await dialog.getByLabel('Reason (optional)').fill('Customer cancelled by phone');
  await dialog.getByRole('button', { name: 'Cancel job' }).click();

  await page.locator(`article[data-job-id="${assignedJob}"][data-status="Cancelled"]`).waitFor();
  await job.getByText('Job cancelled, with its assignment.').waitFor();
  assert.equal(await job.locator('.assignment').getAttribute('data-assignment-status'), 'Cancelled');
  assert.match(await job.innerText(), /Customer cancelled by phone/);
  assert.equal(await job.getByRole('button', { name: 'Cancel job' }).count(), 0);
  const ev = await eventArrives(page, 'JobCancelled', assignedJob);
  assert.match(await ev.innerText(), /assignment \(tech-\d+\) Confirmed → Cancelled/);
  await page.screenshot({ path: `${output}/console-job-cancelled.png`, fullPage: true });
  await page.context().close();
});

test('a technician opens only the jobs booked on them; a caller with no job role gets no Jobs section', async () => {
  const page = await newPage();
  await signIn(page, 'tom');
  // tom (Technician) has the section, to open a job by id, but creates none.
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Jobs' }).click();
  await page.getByText('Open a job you are booked on by its id.').waitFor();
  assert.equal(await page.getByRole('button', { name: 'New job' }).count(), 0);
  // The demo job is booked on another technician: the API refuses it.
  await page.goto(`${base}/console#/jobs/${assignedJob}`);
  await page.getByRole('alert').filter({ hasText: `Could not load job ${assignedJob}: Forbidden` }).waitFor();
  await page.context().close();

  const alicePage = await newPage();
  await signIn(alicePage, 'alice');
  assert.equal(await alicePage.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Jobs' }).count(), 0);
  await alicePage.goto(`${base}/console#/jobs/${assignedJob}`);
  await alicePage.getByText('Jobs are for dispatchers, admins and technicians').waitFor();
  await alicePage.context().close();
});

// tom has no sessions in the demo data, so what he creates moves no one else's rows.
test('New interview: the form creates a session, first in the list, another tab of the owner shows it live, and Complete ends it', async () => {
  const other = await newPage();
  await signIn(other, 'tom');
  await other.locator('[data-live-status="live"]').waitFor();
  const page = await newPage();
  await signIn(page, 'tom');
  await page.getByRole('button', { name: 'New interview' }).click();
  const form = page.getByRole('form', { name: 'New interview' });
  // The API's validation reaches the form: a blank title is refused with its details.
  await form.getByLabel('Title').fill('   ');
  await form.getByLabel('Interviewer').fill('interviewer-aria');
  await form.getByRole('button', { name: 'Create' }).click();
  await form.getByRole('alert').getByText('title must not be blank').waitFor();
  await form.getByLabel('Title').fill('Browser-made interview');
  await form.getByLabel('Topics (comma-separated)').fill('caching, queues');
  await form.getByLabel('Difficulty').selectOption('4');
  await form.getByRole('button', { name: 'Create' }).click();
  await form.getByText('Interview “Browser-made interview” created.').waitFor();
  const first = page.locator('ul.cards li').first();
  assert.equal(await first.getAttribute('data-status'), 'active');
  assert.match(await first.innerText(), /Browser-made interview/);
  const id = await first.getAttribute('data-session-id');
  const { status, body } = await apiGet(`/interviews/${id}`, (await token('tom')).token);
  assert.equal(status, 200);
  assert.deepEqual(body.topicIds, ['caching', 'queues']);
  assert.equal(body.difficulty, 4);
  // The owner's other tab gets it from the live channel, without a reload.
  await card(other, id).waitFor();
  await eventArrives(other, 'InterviewCreated', id);
  await page.screenshot({ path: `${output}/console-new-interview.png`, fullPage: true });

  // Complete, offered while active: the row is completed and offers nothing more, here
  // and, live, in the other tab.
  const row = card(page, id);
  await row.getByRole('button', { name: 'Complete' }).click();
  await page.locator(`li[data-session-id="${id}"][data-status="completed"]`).waitFor();
  await row.getByText('Interview completed.').waitFor();
  assert.equal(await row.getByRole('button').count(), 0, 'a completed row offers no action');
  await other.locator(`li[data-session-id="${id}"][data-status="completed"]`).waitFor();
  await eventArrives(other, 'InterviewCompleted', id);
  await page.context().close();
  await other.context().close();
});

// Last: it puts every demo session back, which the tests above rely on not happening.
test('Reset demo data puts the sessions back as make run started them', async () => {
  const page = await newPage();
  await signIn(page, 'alice');
  // Cancelled by an earlier test; the reset brings it back.
  await page.goto(`${base}/console#/interviews/${alice.active3}`);
  await page.locator('[data-field="cancel-reason"]').waitFor();
  await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Reset demo data' }).click()]);
  await page.locator('dl.fields').waitFor();
  assert.equal(await page.locator('[data-field="cancel-reason"]').count(), 0, 'the reset session has no cancel');
  assert.match(await page.locator('dl.fields').innerText(), /\bactive\b/i);
  await page.context().close();
});
