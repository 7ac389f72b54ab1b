// The job lifecycle in the console, in Debian's headless chromium against the real local
// stack: dana creates jobs and books tom, and a booking that overlaps one of his shows the
// conflict naming the job that holds the time (on assign and on reschedule); tom opens his
// job by id, confirms it (dana's open job shows it live), and his screen learns live that
// dana cancelled it. Jobs of their own, far in the future (2027-03-10), touch no other test's
// data. Pages run in UTC, so the times typed are the times sent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { base, output, launch } from './browser.mjs';

const day = '2027-03-10';
const run = Date.now().toString(36);

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** A page signed in as sub, its live channel up. */
async function signedIn(sub) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, timezoneId: 'UTC' });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  await page.goto(base + '/console');
  await page.getByRole('button', { name: `Sign in as ${sub}` }).click();
  await page.getByRole('heading', { name: 'Your interviews' }).waitFor();
  await page.locator('[data-live-status="live"]').waitFor();
  return page;
}

async function token(sub, roles = []) {
  const res = await fetch(base + '/_local/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ sub, roles }),
  });
  assert.equal(res.status, 200);
  return (await res.json()).token;
}

/** A call of the API as sub; returns the body, after checking the status. */
async function call(sub, roles, method, path, body, want = 200) {
  const res = await fetch(`${base}/api${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${await token(sub, roles)}`,
      'Content-Type': 'application/json',
      'Idempotency-Key': crypto.randomUUID(),
    },
    body: method === 'GET' ? undefined : JSON.stringify(body ?? {}),
  });
  const text = await res.text();
  assert.equal(res.status, want, `${sub} ${method} ${path}: ${text}`);
  return JSON.parse(text);
}

const jobCard = (page, id, status) => page.locator(`article[data-job-id="${id}"]${status ? `[data-status="${status}"]` : ''}`);

/** dana's New job form, filled and sent; returns the new job's id (the page shows it). */
async function createJob(page, title) {
  const form = page.getByRole('form', { name: 'New job' });
  if (!(await form.isVisible())) await page.getByRole('button', { name: 'New job' }).click();
  await form.getByLabel('Title').fill(title);
  await form.getByLabel('Customer').fill(`cust-${run}`);
  await form.getByLabel('Address').fill('14 Mill Lane, York');
  await form.getByRole('button', { name: 'Create job' }).click();
  await form.getByText(`Job “${title}” created.`).waitFor();
  const card = page.locator('article.job[data-status="Unassigned"]', { hasText: title });
  await card.waitFor();
  return card.getAttribute('data-job-id');
}

/** Fills the card's Assign or Reschedule form and sends it. */
async function schedule(card, mode, { technician, start, end }) {
  const toggle = card.getByRole('button', { name: mode === 'assign' ? /^(Assign|Reassign)…$/ : 'Reschedule…' });
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
  const form = card.locator(`form.schedule[data-mode="${mode}"]`);
  if (technician) await form.getByLabel('Technician id').fill(technician);
  await form.getByLabel('Date').fill(day);
  await form.getByLabel('Start time').fill(start);
  await form.getByLabel('End time').fill(end);
  await form.getByRole('button', { name: mode === 'assign' ? 'Assign' : 'Reschedule', exact: true }).click();
  return form;
}

test('dana creates jobs and books tom; an overlapping booking shows the conflict, naming the job that holds the time', async () => {
  const page = await signedIn('dana');
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Jobs' }).click();

  const first = await createJob(page, `Fit a heat pump ${run}`);
  const firstCard = jobCard(page, first);
  assert.equal(await firstCard.getByRole('button', { name: 'Reschedule…' }).count(), 0, 'an unassigned job offers no Reschedule');
  let form = await schedule(firstCard, 'assign', { technician: 'tom', start: '09:00', end: '11:00' });
  await form.getByText(/^tom booked from /).waitFor();
  await jobCard(page, first, 'Assigned').waitFor();
  assert.equal(await firstCard.locator('.assignment').getAttribute('data-assignment-status'), 'Pending');
  assert.equal(await firstCard.locator('.assignment').getAttribute('data-technician-id'), 'tom');
  const stored = await call('dana', ['Dispatcher'], 'GET', `/jobs/${first}`);
  assert.equal(stored.assignment.scheduledStart, `${day}T09:00:00.000Z`, 'the window typed is sent in UTC');
  assert.equal(stored.assignment.scheduledEnd, `${day}T11:00:00.000Z`);
  assert.deepEqual([...stored.allowedActions].sort(), ['assign', 'cancel', 'reschedule']);
  for (const name of ['Reassign…', 'Reschedule…', 'Cancel job']) await firstCard.getByRole('button', { name }).waitFor();
  assert.equal(await firstCard.getByRole('button', { name: 'Confirm' }).count(), 0, "a dispatcher gets no technician's buttons");

  // A second job, booked on tom at a time that overlaps the first: refused, naming it.
  const second = await createJob(page, `Service a boiler ${run}`);
  assert.notEqual(second, first);
  const secondCard = jobCard(page, second);
  form = await schedule(secondCard, 'assign', { technician: 'tom', start: '10:00', end: '12:00' });
  const refused = form.getByRole('alert');
  await refused.getByText(`tom is already booked on job ${first} at that time`).waitFor();
  assert.equal(await refused.locator('[data-conflicting-job-id]').getAttribute('data-conflicting-job-id'), first);
  await page.screenshot({ path: `${output}/jobs-booking-conflict.png`, fullPage: true });
  assert.equal(await secondCard.getAttribute('data-status'), 'Unassigned', 'the refused booking changed nothing');

  // Right after the first booking, the second one fits; moved over the first, it is refused again.
  form = await schedule(secondCard, 'assign', { technician: 'tom', start: '11:00', end: '12:00' });
  await jobCard(page, second, 'Assigned').waitFor();
  form = await schedule(secondCard, 'reschedule', { start: '10:30', end: '11:30' });
  await form.getByRole('alert').getByText(`tom is already booked on job ${first} at that time`).waitFor();
  assert.equal((await call('dana', ['Dispatcher'], 'GET', `/jobs/${second}`)).assignment.scheduledStart, `${day}T11:00:00.000Z`);
  // Moved later, it is rescheduled.
  form = await schedule(secondCard, 'reschedule', { start: '12:00', end: '13:00' });
  await form.getByText(/^Rescheduled from /).waitFor();
  assert.equal((await call('dana', ['Dispatcher'], 'GET', `/jobs/${second}`)).assignment.scheduledStart, `${day}T12:00:00.000Z`);

  // The conflict's link opens the job that holds the time.
  form = await schedule(secondCard, 'reschedule', { start: '10:00', end: '11:00' });
  await form.getByRole('link', { name: first }).click();
  await jobCard(page, first, 'Assigned').waitFor();
  assert.match(page.url(), new RegExp(`#/jobs/${first}$`));
  await page.context().close();
});

test("tom opens his job by id, confirms it (dana's screen shows it live), and his screen learns live that dana cancelled it", async () => {
  const job = await call('dana', ['Dispatcher'], 'POST', '/jobs', {
    title: `Repair a gate ${run}`,
    customerId: `cust-${run}`,
    address: '2 Station Road, Leeds',
  }, 201);
  await call('dana', ['Dispatcher'], 'POST', `/jobs/${job.id}/assign`, {
    technicianId: 'tom',
    scheduledStart: `${day}T15:00:00Z`,
    scheduledEnd: `${day}T16:00:00Z`,
  });

  const dana = await signedIn('dana');
  await dana.goto(`${base}/console#/jobs/${job.id}`);
  await jobCard(dana, job.id, 'Assigned').waitFor();
  const tom = await signedIn('tom');
  await tom.goto(`${base}/console#/jobs/${job.id}`);
  const card = jobCard(tom, job.id, 'Assigned');
  await card.waitFor();
  // tom's own transitions, and nothing of a dispatcher's.
  await card.getByRole('button', { name: 'Confirm' }).waitFor();
  for (const name of ['Start', 'Complete', 'Cancel job', 'Reschedule…', 'Assign…', 'Reassign…']) {
    assert.equal(await card.getByRole('button', { name, exact: true }).count(), 0, `tom is offered ${name}`);
  }

  await card.getByRole('button', { name: 'Confirm' }).click();
  await card.getByText('Assignment confirmed.').waitFor();
  await card.locator('.assignment[data-assignment-status="Confirmed"]').waitFor();
  await card.getByRole('button', { name: 'Start' }).waitFor();
  // dana's open job follows, without a reload.
  await jobCard(dana, job.id).locator('.assignment[data-assignment-status="Confirmed"]').waitFor();
  await dana.locator(`.events li[data-event-type="AssignmentConfirmed"][data-entity-id="${job.id}"]`).first().waitFor();
  await dana.context().close();

  // From here on tom's page must neither reload nor call the API: the channel says it all.
  await tom.evaluate(() => (window.stillTheSamePage = true));
  const calls = [];
  tom.on('request', (r) => r.url().includes('/api/') && !r.url().endsWith('/live/tickets') && calls.push(`${r.method()} ${r.url()}`));
  await call('dana', ['Dispatcher'], 'POST', `/jobs/${job.id}/cancel`, { reason: 'Customer away that week' });

  const cancelled = jobCard(tom, job.id, 'Cancelled');
  await cancelled.waitFor();
  await cancelled.locator('.assignment[data-assignment-status="Cancelled"]').waitFor();
  assert.match(await cancelled.locator('[data-field="cancelled"]').innerText(), /by dana: “Customer away that week”/);
  assert.equal(await cancelled.getByRole('button').count(), 0, 'a cancelled job offers tom nothing');
  const ev = tom.locator(`.events li[data-event-type="JobCancelled"][data-entity-id="${job.id}"]`).first();
  await ev.waitFor();
  assert.match(await ev.innerText(), /assignment \(tom\) Confirmed → Cancelled/);
  await tom.screenshot({ path: `${output}/jobs-technician-cancelled.png`, fullPage: true });
  assert.equal(await tom.evaluate(() => window.stillTheSamePage), true, "tom's page was reloaded");
  assert.deepEqual(calls, [], "tom's page called the API instead of following the channel");
  await tom.context().close();
});
