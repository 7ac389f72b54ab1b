// The job lifecycle in the console, in Debian's headless chromium against the real local
// stack: dana creates jobs and books tom, and a booking that overlaps one of his shows the
// conflict naming the job that holds the time (on assign and on reschedule); tom opens his
// job by id, confirms it (dana's open job shows it live), and his screen learns live that
// dana cancelled it. dana's board lists the job she creates, shows it assigned elsewhere
// without a reload, shows a job created elsewhere, filters by status and pages in the API's
// order; tom's schedule shows the job dana books for him and follows her reschedule and
// cancel live; a requested window goes in through the New job form (the API's 400 details
// beside the fields) and comes back on the card and the board. Jobs of their own, far in the
// future (2027), or in the coming days for tom's schedule, touch no other test's data. Pages
// run in UTC with British English formats, so the times typed are the times sent and the
// times shown read alike on every machine.
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
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 }, timezoneId: 'UTC', locale: 'en-GB' });
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

// ---- The board, tom's schedule and the requested window ----

const dispatcher = ['Dispatcher'];
// A day of their own on tom's calendar for the board's bookings.
const boardDay = '2027-03-11';
/** The UTC date (yyyy-mm-dd) n days from now. */
const utcDay = (n) => new Date(Date.now() + n * 86400000).toISOString().slice(0, 10);

const board = (page) => page.locator('section.board');
const boardRow = (page, id, status) => page.locator(`section.board tr[data-job-id="${id}"]${status ? `[data-status="${status}"]` : ''}`);
const rowIds = (page) => board(page).locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.jobId));
/** Waits until the board has no read in flight (its section is aria-busy while one is). */
const boardSettled = (page) => page.locator('section.board[aria-busy="false"]').waitFor();
const scheduleRow = (page, id) => page.locator(`section.my-schedule tr[data-job-id="${id}"]`);

/** Runs action and waits for the GET it makes whose URL holds part, answered 200. */
async function reading(page, part, action) {
  const res = page.waitForResponse((r) => r.url().includes(part) && r.request().method() === 'GET');
  await action();
  assert.equal((await res).status(), 200, `GET …${part}`);
}

async function openJobs(page) {
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Jobs' }).click();
}

/** The next page of the board, read and shown. */
async function loadMore(page) {
  await reading(page, 'cursor=', () => board(page).getByRole('button', { name: 'Load more' }).click());
  await boardSettled(page);
}

/** The board's row of a job, loading more until it is there. */
async function findOnBoard(page, id) {
  await boardSettled(page);
  while ((await boardRow(page, id).count()) === 0) {
    assert.equal(await board(page).getByRole('button', { name: 'Load more' }).count(), 1, `job ${id} is not on the board, and there is no more`);
    await loadMore(page);
  }
  return boardRow(page, id);
}

/** Every job on the board, as the API pages it (GET /jobs), optionally of one status: their ids. */
async function listAll(status = '') {
  const ids = [];
  let cursor;
  do {
    const q = new URLSearchParams({ limit: '100', ...(status ? { status } : {}), ...(cursor ? { cursor } : {}) });
    const page = await call('dana', dispatcher, 'GET', `/jobs?${q}`);
    ids.push(...page.items.map((j) => j.id));
    cursor = page.nextCursor;
  } while (cursor);
  return ids;
}

const newJob = (title) => call('dana', dispatcher, 'POST', '/jobs', { title, customerId: `cust-${run}`, address: '5 Canal Wharf, Leeds' }, 201);
const book = (id, start, end) => call('dana', dispatcher, 'POST', `/jobs/${id}/assign`, { technicianId: 'tom', scheduledStart: start, scheduledEnd: end });

test("dana's board lists the job she creates and shows it assigned elsewhere, live; a job created elsewhere appears", async () => {
  const page = await signedIn('dana');
  await openJobs(page);
  await page.getByRole('heading', { name: 'The board' }).waitFor();
  const id = await createJob(page, `Clear a drain ${run}`);
  // The form opened the new job; the board lists it.
  await page.getByRole('link', { name: '← The board' }).click();
  const row = await findOnBoard(page, id);
  assert.equal(await row.getAttribute('data-status'), 'Unassigned');
  assert.equal(await row.getByRole('link').innerText(), `Clear a drain ${run}`);
  assert.equal(await row.locator('[data-field="technician"]').innerText(), '–');
  assert.equal(await row.locator('[data-field="window"]').innerText(), '–');

  // Booked from elsewhere (another tab, curl): the row follows, without a reload or a read
  // of the job or the board: the message says it all.
  await page.evaluate(() => (window.stillTheSamePage = true));
  const reads = [];
  page.on('request', (r) => (r.url().includes(`/api/jobs/${id}`) || r.url().includes('/api/jobs?')) && reads.push(`${r.method()} ${r.url()}`));
  await book(id, `${boardDay}T13:00:00Z`, `${boardDay}T14:30:00Z`);
  const assigned = boardRow(page, id, 'Assigned');
  await assigned.waitFor();
  assert.equal(await assigned.locator('[data-field="technician"]').innerText(), 'tom');
  assert.equal(await assigned.locator('[data-field="window"]').innerText(), '11 Mar 2027, 13:00 – 14:30');
  assert.deepEqual(reads, [], 'the board read the API instead of following the channel');

  // A job created elsewhere appears, in its place on the board.
  const other = await newJob(`Unblock a gutter ${run}`);
  await boardRow(page, other.id, 'Unassigned').waitFor();
  const shown = await rowIds(page);
  const all = await listAll();
  assert.deepEqual(shown, all.filter((j) => shown.includes(j)), 'the rows are in the board order the API reads');
  assert.equal(await page.evaluate(() => window.stillTheSamePage), true, 'the board was reloaded');
  await page.screenshot({ path: `${output}/jobs-board.png`, fullPage: true });
  await page.context().close();
});

test('the board filters by status, and a job that changes status leaves the filter live', async () => {
  const page = await signedIn('dana');
  await openJobs(page);
  await boardSettled(page);
  const job = await newJob(`Fix a dripping tap ${run}`);
  const filter = page.locator('section.board').getByLabel('Status');
  await reading(page, 'status=Unassigned', () => filter.selectOption('Unassigned'));
  const row = await findOnBoard(page, job.id);
  while ((await board(page).getByRole('button', { name: 'Load more' }).count()) > 0) await loadMore(page);
  const statuses = await board(page).locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.status));
  assert.deepEqual([...new Set(statuses)], ['Unassigned']);
  assert.deepEqual(await rowIds(page), await listAll('Unassigned'), 'the filter shows what the API lists, in its order');

  // Booked elsewhere, it is no longer unassigned: it leaves, and shows under Assigned.
  await book(job.id, `${boardDay}T15:00:00Z`, `${boardDay}T16:00:00Z`);
  await row.waitFor({ state: 'detached' });
  await reading(page, 'status=Assigned', () => filter.selectOption('Assigned'));
  const assigned = await findOnBoard(page, job.id);
  assert.equal(await assigned.getAttribute('data-status'), 'Assigned');
  assert.equal(await assigned.locator('[data-field="technician"]').innerText(), 'tom');
  const shown = await board(page).locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.status));
  assert.deepEqual([...new Set(shown)], ['Assigned']);
  await page.context().close();
});

test('Load more pages through the board in the order the API reads it', async () => {
  const page = await signedIn('dana');
  // More jobs than a page holds (ten), whatever ran before.
  const made = [];
  while ((await listAll()).length <= 10) made.push((await newJob(`Paging filler ${made.length + 1} ${run}`)).id);
  // Their events reach the page before the board reads, so none changes the board under the test.
  for (const id of made) await page.locator(`.events li[data-event-type="JobCreated"][data-entity-id="${id}"]`).waitFor();
  const all = await listAll();

  await openJobs(page);
  await boardSettled(page);
  assert.deepEqual(await rowIds(page), all.slice(0, 10), 'the first page is the board’s first ten');
  let pages = 1;
  while ((await board(page).getByRole('button', { name: 'Load more' }).count()) > 0) {
    await loadMore(page);
    pages++;
    assert.deepEqual(await rowIds(page), all.slice(0, 10 * pages), `after ${pages} pages`);
  }
  assert.ok(pages >= 2, 'the board took more than one page');
  assert.deepEqual(await rowIds(page), all, 'every job, once, in board order');
  await page.context().close();
});

test("tom's schedule shows the job dana books for him, and follows her reschedule and cancel live", async () => {
  const tomorrow = utcDay(1);
  const nextWeek = utcDay(9);
  // A booking the week after, which Later shows.
  const later = await newJob(`Service a heat pump ${run}`);
  await book(later.id, `${nextWeek}T10:00:00Z`, `${nextWeek}T11:00:00Z`);

  const tom = await signedIn('tom');
  await openJobs(tom);
  await tom.getByRole('heading', { name: 'My schedule' }).waitFor();
  await tom.locator('section.my-schedule[aria-busy="false"]').waitFor();
  assert.equal(await scheduleRow(tom, later.id).count(), 0, 'a booking nine days on is not in the next seven');

  // From here on tom's page is never reloaded: the channel brings every change.
  await tom.evaluate(() => (window.stillTheSamePage = true));
  const title = `Descale a boiler ${run}`;
  const job = await newJob(title);
  await book(job.id, `${tomorrow}T14:00:00Z`, `${tomorrow}T15:00:00Z`);
  const row = scheduleRow(tom, job.id);
  await row.getByRole('link', { name: title }).waitFor();
  assert.equal(await row.getAttribute('data-start'), `${tomorrow}T14:00:00.000Z`);
  assert.match(await row.locator('[data-field="window"]').innerText(), /, 14:00 – 15:00$/);
  await tom.locator(`section.my-schedule tr[data-job-id="${job.id}"][data-status="Assigned"]`).waitFor();

  await call('dana', dispatcher, 'POST', `/jobs/${job.id}/reschedule`, { scheduledStart: `${tomorrow}T16:00:00Z`, scheduledEnd: `${tomorrow}T17:15:00Z` });
  await tom.locator(`section.my-schedule tr[data-job-id="${job.id}"][data-start="${tomorrow}T16:00:00.000Z"]`).waitFor();
  assert.match(await row.locator('[data-field="window"]').innerText(), /, 16:00 – 17:15$/);
  await tom.screenshot({ path: `${output}/jobs-my-schedule.png`, fullPage: true });

  await call('dana', dispatcher, 'POST', `/jobs/${job.id}/cancel`, { reason: 'Boiler replaced instead' });
  await row.waitFor({ state: 'detached' });
  assert.equal(await tom.evaluate(() => window.stillTheSamePage), true, "tom's page was reloaded");

  // The week after holds the other booking; its link opens the job, where tom confirms it.
  await reading(tom, '/api/technicians/me/assignments', () => tom.getByRole('button', { name: 'Later →' }).click());
  const next = scheduleRow(tom, later.id);
  await next.getByRole('link', { name: `Service a heat pump ${run}` }).click();
  const card = jobCard(tom, later.id, 'Assigned');
  await card.getByRole('button', { name: 'Confirm' }).waitFor();
  await tom.getByRole('link', { name: '← My schedule' }).click();
  await tom.getByRole('heading', { name: 'My schedule' }).waitFor();
  // Cancelled, it leaves tom's calendar; its event reaches his page before the page goes
  // (so no later test's page of his receives it).
  await call('dana', dispatcher, 'POST', `/jobs/${later.id}/cancel`, {});
  await tom.locator(`.events li[data-event-type="JobCancelled"][data-entity-id="${later.id}"]`).first().waitFor();
  await tom.context().close();
});

test('New job: the requested window goes in through the form, the API’s problems show beside the fields, and it comes back on the card and the board', async () => {
  const page = await signedIn('dana');
  await openJobs(page);
  await page.getByRole('button', { name: 'New job' }).click();
  const form = page.getByRole('form', { name: 'New job' });
  const creates = [];
  page.on('request', (r) => r.method() === 'POST' && r.url().endsWith('/api/jobs') && creates.push(r.url()));
  await form.getByLabel('Title').fill('   ');
  await form.getByLabel('Customer').fill(`cust-${run}`);
  await form.getByLabel('Address').fill('1 Ropewalk, Hull');

  // Only one end of the window: the form asks for both and sends nothing.
  await form.getByLabel('Requested from').fill('2027-04-01T12:00');
  await form.getByRole('button', { name: 'Create job' }).click();
  await form.getByRole('alert').getByText('Give both ends of the requested window').waitFor();
  assert.deepEqual(creates, []);

  // A window that ends before it starts, and a blank title: the API refuses both in one 400,
  // whose details show in full and beside each field they name.
  await form.getByLabel('Requested until').fill('2027-04-01T09:00');
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/jobs') && r.request().method() === 'POST'),
    form.getByRole('button', { name: 'Create job' }).click(),
  ]);
  assert.equal(res.status(), 400);
  const { details } = await res.json();
  assert.match(details, /title must not be blank/);
  assert.match(details, /requestedWindow\.start must be before its end/);
  await form.getByRole('alert').getByText(details).waitFor();
  const windowError = form.locator('[data-field="requested-window"] .field-error');
  await windowError.getByText('requestedWindow.start must be before its end').waitFor();
  assert.equal(await windowError.getByText('title').count(), 0, 'the window shows only its own problem');
  await form.locator('.field-error', { hasText: 'title must not be blank' }).waitFor();
  for (const label of ['Title', 'Requested from', 'Requested until']) {
    assert.equal(await form.getByLabel(label).getAttribute('aria-invalid'), 'true', `${label} is marked invalid`);
    assert.match(await form.getByLabel(label).getAttribute('aria-describedby'), /error/, `${label} points at its problem`);
  }
  assert.equal(await form.getByLabel('Customer').getAttribute('aria-invalid'), 'false');
  await page.screenshot({ path: `${output}/jobs-new-job-refused.png`, fullPage: true });

  // Put right (a window over three days, typed in UTC): created, with the window as typed.
  const title = `Survey a roof ${run}`;
  await form.getByLabel('Title').fill(title);
  assert.equal(await form.locator('.field-error').count(), 0, 'an edit clears the problems of the form as it was sent');
  await form.getByLabel('Requested until').fill('2027-04-03T17:30');
  await form.getByRole('button', { name: 'Create job' }).click();
  await form.getByText(`Job “${title}” created.`).waitFor();
  const card = page.locator('article.job[data-status="Unassigned"]', { hasText: title });
  await card.waitFor();
  const id = await card.getAttribute('data-job-id');
  const stored = await call('dana', dispatcher, 'GET', `/jobs/${id}`);
  assert.deepEqual(stored.requestedWindow, { start: '2027-04-01T12:00:00.000Z', end: '2027-04-03T17:30:00.000Z' });
  assert.match(await card.innerText(), /Requested\s+1 Apr 2027, 12:00 – 3 Apr 2027, 17:30/);

  // On the board, an unbooked job shows the window its customer asked for.
  await page.getByRole('link', { name: '← The board' }).click();
  const row = await findOnBoard(page, id);
  assert.equal(await row.locator('[data-field="window"]').innerText(), 'requested 1 Apr 2027, 12:00 – 3 Apr 2027, 17:30');
  await page.context().close();
});
