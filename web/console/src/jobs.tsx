// Jobs. Dispatchers and admins see every job on the board (board.tsx), look a job up by id
// or create one (with the window its customer asked for, if any), book a technician into a
// window (Assign), move the booking (Reschedule) and cancel the job with an optional reason;
// a technician sees their bookings (schedule.tsx), opens a job they are booked on and
// confirms, starts and completes it. Every button comes from the job's allowedActions (the
// console keeps no copy of the lifecycle's rules). A booking that overlaps another of the
// technician's is refused with 409 BOOKING_CONFLICT, shown with a link to the job that holds
// the time. The card follows the live channel: a transition made anywhere shows at once.
import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { type Api, type ErrorBody, type Job, type JobStep, type NewJob, describe, Unauthorized } from './api';
import { OutcomeView, ReasonDialog, formatTime, newKey, useAction, zone } from './action';
import { Board } from './board';
import { useLive } from './live';
import { StatusBadge } from './interviews';
import { applyMessage, jobActions } from './jobstate';
import { href } from './route';
import { MySchedule } from './schedule';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Jobs is the jobs section: one job (id), else the board for a dispatcher or an admin
 * (manage: they also get New job) and a technician's own schedule (technician).
 */
export function Jobs({ api, id, manage, technician }: { api: Api; id?: string; manage: boolean; technician: boolean }) {
  const [input, setInput] = useState(id ?? '');
  const [invalid, setInvalid] = useState(false);
  const [creating, setCreating] = useState(false);
  useEffect(() => setInput(id ?? ''), [id]);

  return (
    <section aria-labelledby="view-title">
      <h2 id="view-title" tabIndex={-1}>
        Jobs
      </h2>
      <form
        class="toolbar"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          const v = input.trim();
          setInvalid(!uuid.test(v));
          if (uuid.test(v)) location.hash = href.job(v.toLowerCase());
        }}
      >
        <label for="job-id">Job id</label>
        <input
          id="job-id"
          name="job-id"
          size={38}
          spellcheck={false}
          autoComplete="off"
          placeholder="0b000000-0000-4000-8000-000000000003"
          value={input}
          aria-invalid={invalid}
          aria-describedby={invalid ? 'job-id-error' : undefined}
          onInput={(e) => setInput(e.currentTarget.value)}
        />
        <button type="submit" class="primary">
          Look up
        </button>
        {manage && (
          <button type="button" class="primary" onClick={() => setCreating(true)} disabled={creating} aria-expanded={creating}>
            New job
          </button>
        )}
      </form>
      {invalid && (
        <p id="job-id-error" class="error" role="alert">
          A job id is a UUID, like 0b000000-0000-4000-8000-000000000003.
        </p>
      )}
      {manage && creating && (
        <NewJobForm api={api} onCreated={(j) => (location.hash = href.job(j.id))} onClose={() => setCreating(false)} />
      )}
      {id ? (
        <>
          <p>
            <a href={href.jobs()}>← {manage ? 'The board' : 'My schedule'}</a>
          </p>
          <JobCard key={id} api={api} id={id} />
        </>
      ) : (
        <>
          {!manage && <p class="hint">Open a job you are booked on by its id.</p>}
          {manage && <Board api={api} />}
          {technician && <MySchedule api={api} />}
        </>
      )}
    </section>
  );
}

const steps: Record<JobStep, { label: string; busy: string; done: string }> = {
  confirm: { label: 'Confirm', busy: 'Confirming…', done: 'Assignment confirmed.' },
  start: { label: 'Start', busy: 'Starting…', done: 'Job started.' },
  complete: { label: 'Complete', busy: 'Completing…', done: 'Job completed.' },
};

/** The instant a datetime-local input's value names in the browser's zone, as the API wants it: UTC, RFC 3339. */
function utcOf(local: string): string | null {
  const d = new Date(local);
  return local === '' || Number.isNaN(d.getTime()) ? null : d.toISOString().replace(/\.000Z$/, 'Z');
}

/**
 * problemsWith returns the problems a 400's details name for one field of the body: the API
 * lists every problem of a body in one details, "; " between them, each starting with the
 * field it is about ("title must not be blank", "requestedWindow.start must be before its end").
 */
function problemsWith(body: ErrorBody | undefined, field: string): string[] {
  if (body?.code !== 'INVALID_REQUEST' || !body.details) return [];
  return body.details.split('; ').filter((p) => p.startsWith(`${field} `) || p.startsWith(`${field}.`));
}

/** FieldError shows the API's problems with one field, beside it. */
function FieldError({ id, problems }: { id: string; problems: string[] }) {
  if (problems.length === 0) return null;
  return (
    <ul id={id} class="field-error">
      {problems.map((p) => (
        <li key={p}>{p}</li>
      ))}
    </ul>
  );
}

/**
 * NewJobForm creates a job (POST /jobs), optionally with the window its customer asked for
 * (typed in the browser's zone, sent in UTC). One Idempotency-Key per filled-in form: a retry
 * after a lost answer gets the job the first attempt made, never a second. A 400 shows the
 * API's details, each problem also beside the field it names.
 */
function NewJobForm({ api, onCreated, onClose }: { api: Api; onCreated: (j: Job) => void; onClose: () => void }) {
  const [title, setTitle] = useState('');
  const [customer, setCustomer] = useState('');
  const [address, setAddress] = useState('');
  const [windowStart, setWindowStart] = useState('');
  const [windowEnd, setWindowEnd] = useState('');
  const [incomplete, setIncomplete] = useState(false);
  // The form as it was sent: the API's problems show beside the fields until one is edited.
  const [edited, setEdited] = useState(false);
  const key = useRef(newKey());
  const { busy, outcome, run } = useAction();
  const titleRef = useRef<HTMLInputElement>(null);
  useEffect(() => titleRef.current?.focus(), []);

  const onEdit = (set: (v: string) => void) => (e: { currentTarget: HTMLInputElement }) => {
    set(e.currentTarget.value);
    setIncomplete(false);
    setEdited(true);
    key.current = newKey(); // another job, not a retry of the last one
  };

  function submit(e: Event) {
    e.preventDefault();
    const body: NewJob = { title: title.trim(), customerId: customer.trim(), address: address.trim() };
    if (windowStart || windowEnd) {
      const start = utcOf(windowStart);
      const end = utcOf(windowEnd);
      if (!start || !end) return setIncomplete(true);
      body.requestedWindow = { start, end };
    }
    setEdited(false);
    void run(
      'create',
      (k) => api.createJob(body, k),
      (j) => {
        onCreated(j);
        return `Job “${j.title}” created.`;
      },
      key.current,
    );
  }

  const refused = outcome && !outcome.ok && !edited ? outcome.body : undefined;
  /** A field's problems (from the API's 400), shown beside it and named by its aria attributes. */
  const field = (name: string, id: string, also?: string) => {
    const problems = problemsWith(refused, name);
    const described = [problems.length > 0 ? `${id}-error` : undefined, also].filter(Boolean).join(' ');
    return {
      aria: { 'aria-invalid': problems.length > 0, 'aria-describedby': described || undefined },
      error: <FieldError id={`${id}-error`} problems={problems} />,
    };
  };
  const t = field('title', 'new-job-name');
  const c = field('customerId', 'new-job-customer');
  const a = field('address', 'new-job-address');
  const w = field('requestedWindow', 'new-job-window', incomplete ? 'new-job-window-hint new-job-window-incomplete' : 'new-job-window-hint');
  const windowAria = { ...w.aria, 'aria-invalid': w.aria['aria-invalid'] || incomplete };

  return (
    <form class="new-interview new-job" aria-labelledby="new-job-title" onSubmit={submit}>
      <h3 id="new-job-title">New job</h3>
      <label for="new-job-name">Title</label>
      <input id="new-job-name" ref={titleRef} required maxLength={200} value={title} onInput={onEdit(setTitle)} {...t.aria} />
      {t.error}
      <label for="new-job-customer">Customer</label>
      <input id="new-job-customer" required maxLength={100} placeholder="cust-2041" value={customer} onInput={onEdit(setCustomer)} {...c.aria} />
      {c.error}
      <label for="new-job-address">Address</label>
      <input id="new-job-address" required maxLength={500} value={address} onInput={onEdit(setAddress)} {...a.aria} />
      {a.error}
      <fieldset class="window" data-field="requested-window">
        <legend>Requested window (optional)</legend>
        <label for="new-job-window-start">Requested from</label>
        <input id="new-job-window-start" type="datetime-local" value={windowStart} onInput={onEdit(setWindowStart)} {...windowAria} />
        <label for="new-job-window-end">Requested until</label>
        <input id="new-job-window-end" type="datetime-local" value={windowEnd} onInput={onEdit(setWindowEnd)} {...windowAria} />
        <p class="hint" id="new-job-window-hint">
          When the customer asked for the visit, in {zone} (sent in UTC); at most 14 days. Leave both empty for none.
        </p>
        {incomplete && (
          <p class="error" id="new-job-window-incomplete" role="alert">
            Give both ends of the requested window (a date and a time each), or neither.
          </p>
        )}
        {w.error}
      </fieldset>
      <div class="buttons">
        <button type="submit" class="primary" disabled={busy !== null} aria-busy={busy === 'create'}>
          {busy === 'create' ? 'Creating…' : 'Create job'}
        </button>
        <button type="button" onClick={onClose} disabled={busy !== null}>
          Close
        </button>
      </div>
      <OutcomeView outcome={outcome} />
    </form>
  );
}

const pad = (n: number) => String(n).padStart(2, '0');
/** The local date (yyyy-mm-dd) and time (hh:mm) of an instant, for the form's inputs. */
const localDate = (d: Date) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const localTime = (d: Date) => `${pad(d.getHours())}:${pad(d.getMinutes())}`;
/** The instant of a local date and time, as the API wants it: UTC, RFC 3339, whole seconds. */
function utc(date: string, time: string): string | null {
  const d = new Date(`${date}T${time}`);
  return Number.isNaN(d.getTime()) ? null : d.toISOString().replace(/\.000Z$/, 'Z');
}

/** conflict explains a 409 BOOKING_CONFLICT: who is booked, on which job (a link to it). */
function conflict(technician: string): (b: ErrorBody) => ComponentChildren {
  return (b) =>
    b.code === 'BOOKING_CONFLICT' && b.conflictingJobId ? (
      <p class="conflict" data-conflicting-job-id={b.conflictingJobId}>
        {technician || 'The technician'} is already booked on job <a href={href.job(b.conflictingJobId)}>{b.conflictingJobId}</a> at that
        time. Choose another window or technician.
      </p>
    ) : null;
}

/**
 * ScheduleForm books a technician into a window (assign) or moves the booking (reschedule):
 * a date and a start and end time in the browser's time zone, sent as UTC. One
 * Idempotency-Key per filled-in form, as for a new job.
 */
function ScheduleForm(props: { api: Api; job: Job; mode: 'assign' | 'reschedule'; onUpdated: (j: Job) => void; onClose: () => void }) {
  const { api, job, mode } = props;
  const a = job.assignment && job.assignment.status !== 'Cancelled' ? job.assignment : undefined;
  const from = a ? new Date(a.scheduledStart) : undefined;
  const to = a ? new Date(a.scheduledEnd) : undefined;
  const [technician, setTechnician] = useState(mode === 'reschedule' ? (a?.technicianId ?? '') : '');
  const [date, setDate] = useState(from ? localDate(from) : '');
  const [start, setStart] = useState(from ? localTime(from) : '');
  const [end, setEnd] = useState(to ? localTime(to) : '');
  const [invalid, setInvalid] = useState('');
  const [sentFor, setSentFor] = useState('');
  const key = useRef(newKey());
  const { busy, outcome, run } = useAction();
  const firstRef = useRef<HTMLInputElement>(null);
  const id = useId();
  useEffect(() => firstRef.current?.focus(), []);

  const edited = (set: (v: string) => void) => (e: { currentTarget: HTMLInputElement }) => {
    set(e.currentTarget.value);
    setInvalid('');
    key.current = newKey();
  };

  function submit(e: Event) {
    e.preventDefault();
    const scheduledStart = utc(date, start);
    const scheduledEnd = utc(date, end);
    if (!scheduledStart || !scheduledEnd) return setInvalid('Give a date, a start time and an end time.');
    if (Date.parse(scheduledEnd) <= Date.parse(scheduledStart)) return setInvalid('The end must be after the start (on the same day).');
    const tech = mode === 'assign' ? technician.trim() : (a?.technicianId ?? '');
    setSentFor(tech);
    void run(
      mode,
      (k) =>
        mode === 'assign'
          ? api.assignJob(job.id, { technicianId: tech, scheduledStart, scheduledEnd }, k)
          : api.rescheduleJob(job.id, { scheduledStart, scheduledEnd }, k),
      (j) => {
        props.onUpdated(j);
        const w = j.assignment ? ` from ${formatTime(j.assignment.scheduledStart)} to ${formatTime(j.assignment.scheduledEnd)}` : '';
        return mode === 'assign' ? `${tech} booked${w}.` : `Rescheduled${w}.`;
      },
      key.current,
    );
  }

  const heading = mode === 'assign' ? (a ? 'Reassign the job' : 'Assign a technician') : 'Reschedule';
  return (
    <form class="new-interview schedule" aria-labelledby={`${id}-title`} data-mode={mode} onSubmit={submit}>
      <h4 id={`${id}-title`}>{heading}</h4>
      {mode === 'assign' ? (
        <>
          <label for={`${id}-tech`}>Technician id</label>
          <input id={`${id}-tech`} ref={firstRef} required maxLength={128} spellcheck={false} placeholder="tom" value={technician} onInput={edited(setTechnician)} />
        </>
      ) : (
        <p class="hint">Keeps {a?.technicianId ?? 'the technician'}; the assignment is Pending again until they confirm.</p>
      )}
      <label for={`${id}-date`}>Date</label>
      <input id={`${id}-date`} ref={mode === 'reschedule' ? firstRef : undefined} type="date" required value={date} onInput={edited(setDate)} />
      <label for={`${id}-start`}>Start time</label>
      <input id={`${id}-start`} type="time" step={900} required value={start} onInput={edited(setStart)} aria-describedby={`${id}-zone`} />
      <label for={`${id}-end`}>End time</label>
      <input id={`${id}-end`} type="time" step={900} required value={end} onInput={edited(setEnd)} aria-describedby={`${id}-zone`} />
      <p class="hint" id={`${id}-zone`}>
        Times in {zone}, sent in UTC; on quarter-hours, at most 8 hours.
      </p>
      {invalid && (
        <p class="error" role="alert">
          {invalid}
        </p>
      )}
      <div class="buttons">
        <button type="submit" class="primary" disabled={busy !== null} aria-busy={busy !== null}>
          {busy ? (mode === 'assign' ? 'Assigning…' : 'Rescheduling…') : mode === 'assign' ? 'Assign' : 'Reschedule'}
        </button>
        <button type="button" onClick={props.onClose} disabled={busy !== null}>
          Close
        </button>
      </div>
      <OutcomeView outcome={outcome} explain={conflict(sentFor)} />
    </form>
  );
}

function JobCard({ api, id }: { api: Api; id: string }) {
  const [job, setJob] = useState<Job | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [asking, setAsking] = useState(false);
  const [form, setForm] = useState<'assign' | 'reschedule' | null>(null);
  const { busy, outcome, run } = useAction();

  /** A response or a refetch replaces the job unless the card already shows a later version. */
  const update = (fresh: Job) => setJob((j) => (!j || fresh.version >= j.version ? fresh : j));
  const refetch = () =>
    api
      .getJob(id)
      .then(update)
      .catch(() => {});

  useLive((m) => {
    if (m.entity !== 'job' || m.entityId !== id) return;
    // Versions order one job's transitions: an older or repeated message changes nothing;
    // one that skips a version means one was missed: read the job.
    const gap = job !== null && m.version > job.version + 1;
    setJob((j) => (j && m.version > j.version ? applyMessage(j, m) : j));
    if (gap) refetch();
  }, refetch);

  useEffect(() => {
    let live = true;
    api
      .getJob(id)
      .then((j) => live && setJob(j))
      .catch((err) => live && !(err instanceof Unauthorized) && setError(describe(err)));
    return () => {
      live = false;
    };
  }, [api, id]);

  // A form for an action no longer allowed (the job moved on meanwhile) closes.
  useEffect(() => {
    if (job && form && !job.allowedActions.includes(form)) setForm(null);
  }, [job?.allowedActions.join(), form]);

  if (error)
    return (
      <div class="error" role="alert">
        <p>Could not load job {id}: {error}</p>
      </div>
    );
  if (!job) return <p class="hint">Loading job…</p>;

  const a = job.assignment;
  const offered = jobActions.filter((x) => job.allowedActions.includes(x));
  function step(s: JobStep) {
    void run(
      s,
      (key) => api.stepJob(id, s, key),
      (j) => {
        update(j);
        return steps[s].done;
      },
    );
  }
  return (
    <article class="card job" data-job-id={job.id} data-status={job.status} aria-labelledby="job-title">
      <header>
        <h3 id="job-title">{job.title}</h3>
        <StatusBadge status={job.status} />
      </header>
      <dl class="fields">
        <dt>Job id</dt>
        <dd>
          <code>{job.id}</code>
        </dd>
        <dt>Customer</dt>
        <dd>{job.customerId ?? '–'}</dd>
        <dt>Address</dt>
        <dd>{job.address ?? '–'}</dd>
        {job.requestedWindow && (
          <>
            <dt>Requested</dt>
            <dd>
              {formatTime(job.requestedWindow.start)} – {formatTime(job.requestedWindow.end)}
            </dd>
          </>
        )}
        <dt>Version</dt>
        <dd>{job.version}</dd>
        <dt>Updated</dt>
        <dd>{formatTime(job.updatedAt)}</dd>
        {job.cancelledAt && (
          <>
            <dt>Cancelled</dt>
            <dd data-field="cancelled">
              {formatTime(job.cancelledAt)} by {job.cancelledBy ?? 'unknown'}
              {job.cancelReason && `: “${job.cancelReason}”`}
            </dd>
          </>
        )}
      </dl>
      <section class="assignment" aria-labelledby="assignment-title" data-assignment-status={a?.status ?? 'none'} data-technician-id={a?.technicianId}>
        <h4 id="assignment-title">Assignment</h4>
        {a ? (
          <dl class="fields">
            <dt>Status</dt>
            <dd>
              <StatusBadge status={a.status} />
            </dd>
            <dt>Technician</dt>
            <dd>{a.technicianId}</dd>
            <dt>Scheduled</dt>
            <dd data-field="scheduled">
              {formatTime(a.scheduledStart)} – {formatTime(a.scheduledEnd)}
            </dd>
            {a.cancelledAt && (
              <>
                <dt>Cancelled</dt>
                <dd>{formatTime(a.cancelledAt)}</dd>
              </>
            )}
          </dl>
        ) : (
          <p class="hint">No current assignment.</p>
        )}
      </section>
      <div class="actions">
        {offered.length > 0 ? (
          <div class="buttons" role="group" aria-label="Actions" aria-describedby="job-title">
            {offered.map((x) =>
              x === 'cancel' ? (
                <button key={x} type="button" class="danger" disabled={busy !== null} aria-busy={busy === x} onClick={() => setAsking(true)}>
                  {busy === x ? 'Cancelling…' : 'Cancel job'}
                </button>
              ) : x === 'assign' || x === 'reschedule' ? (
                <button key={x} type="button" aria-expanded={form === x} disabled={busy !== null} onClick={() => setForm(form === x ? null : x)}>
                  {x === 'assign' ? (a && a.status !== 'Cancelled' ? 'Reassign…' : 'Assign…') : 'Reschedule…'}
                </button>
              ) : (
                <button key={x} type="button" class="primary" disabled={busy !== null} aria-busy={busy === x} onClick={() => step(x)}>
                  {busy === x ? steps[x].busy : steps[x].label}
                </button>
              ),
            )}
          </div>
        ) : (
          <p class="hint">No actions: nothing you may do to a {job.status} job now.</p>
        )}
        <OutcomeView outcome={outcome} />
        {form && <ScheduleForm key={form} api={api} job={job} mode={form} onUpdated={update} onClose={() => setForm(null)} />}
      </div>
      <ReasonDialog
        open={asking}
        title={`Cancel “${job.title}”?`}
        intro={<p>{a && a.status !== 'Cancelled' ? `Its assignment (${a.technicianId}) is cancelled with it.` : 'The job has no assignment to cancel.'}</p>}
        confirm="Cancel job"
        keep="Keep job"
        onConfirm={(reason) => {
          setAsking(false);
          void run(
            'cancel',
            (key) => api.cancelJob(job.id, reason, key),
            (j) => {
              update(j);
              return j.assignment ? 'Job cancelled, with its assignment.' : 'Job cancelled.';
            },
          );
        }}
        onClose={() => setAsking(false)}
      />
    </article>
  );
}
