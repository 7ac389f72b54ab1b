// Jobs. Dispatchers and admins look a job up by id or create one, book a technician into a
// window (Assign), move the booking (Reschedule) and cancel the job with an optional reason;
// a technician opens a job they are booked on by id and confirms, starts and completes it.
// Every button comes from the job's allowedActions (the console keeps no copy of the
// lifecycle's rules). A booking that overlaps another of the technician's is refused with
// 409 BOOKING_CONFLICT, shown with a link to the job that holds the time. The card follows
// the live channel: a transition made anywhere shows at once.
import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { type Api, type ErrorBody, type Job, type JobStatus, type JobStep, type NewJob, describe, Unauthorized } from './api';
import type { DemoJob } from './auth';
import { OutcomeView, ReasonDialog, formatTime, newKey, useAction } from './action';
import { type LiveMessage, useLive } from './live';
import { StatusBadge } from './interviews';
import { href } from './route';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Jobs is the jobs section. manage: the caller is a dispatcher or an admin (New job, the demo
 * jobs); otherwise a technician, who opens the jobs they are booked on by id.
 */
export function Jobs({ api, id, demoJobs, manage }: { api: Api; id?: string; demoJobs: DemoJob[]; manage: boolean }) {
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
        <JobCard key={id} api={api} id={id} />
      ) : !manage ? (
        <p class="hint">Open a job you are booked on by its id.</p>
      ) : (
        demoJobs.length > 0 && (
          <nav aria-labelledby="demo-jobs">
            <h3 id="demo-jobs">Demo jobs</h3>
            <ul class="links">
              {demoJobs.map((j) => (
                <li key={j.id}>
                  <a href={href.job(j.id)}>{j.title}</a> <code>{j.id}</code>
                </li>
              ))}
            </ul>
          </nav>
        )
      )}
    </section>
  );
}

/** The job actions, in the order the card offers them. */
const jobActions: readonly Job['allowedActions'][number][] = ['confirm', 'start', 'complete', 'assign', 'reschedule', 'cancel'];
type JobAction = (typeof jobActions)[number];
const isJobAction = (a: string): a is JobAction => (jobActions as readonly string[]).includes(a);

const steps: Record<JobStep, { label: string; busy: string; done: string }> = {
  confirm: { label: 'Confirm', busy: 'Confirming…', done: 'Assignment confirmed.' },
  start: { label: 'Start', busy: 'Starting…', done: 'Job started.' },
  complete: { label: 'Complete', busy: 'Completing…', done: 'Job completed.' },
};

/** The job events, each with what it leaves the booking it names (`booked`) as. */
const bookingStatus: Partial<Record<LiveMessage['type'], 'Pending' | 'Confirmed' | undefined>> = {
  JobAssigned: 'Pending',
  JobRescheduled: 'Pending',
  AssignmentConfirmed: 'Confirmed',
  JobStarted: undefined,
  JobCompleted: undefined,
};

/**
 * applyMessage returns the job as a live message about it leaves it: its status, version and
 * allowedActions (the recipient's own), the booking the message names, and a cancel's record.
 */
export function applyMessage(j: Job, m: LiveMessage): Job {
  const d = m.detail;
  const next: Job = {
    ...j,
    status: d.status as JobStatus,
    version: m.version,
    updatedAt: d.occurredAt,
    allowedActions: (m.allowedActions as readonly string[]).filter(isJobAction),
  };
  if (m.type === 'JobCancelled') {
    const a = j.assignment && d.assignment?.id === j.assignment.id ? { ...j.assignment, status: 'Cancelled' as const, cancelledAt: d.occurredAt } : j.assignment;
    return { ...next, cancelledAt: d.occurredAt, cancelledBy: d.actor?.sub, cancelReason: d.reason, assignment: a };
  }
  if (d.booked && m.type in bookingStatus) {
    const same = j.assignment?.id === d.booked.id ? j.assignment : undefined;
    next.assignment = {
      id: d.booked.id,
      technicianId: d.booked.technicianId,
      scheduledStart: d.booked.scheduledStart,
      scheduledEnd: d.booked.scheduledEnd,
      // Started and completed jobs keep the booking as it was: confirmed.
      status: bookingStatus[m.type] ?? same?.status ?? 'Confirmed',
      version: same?.version ?? 1,
    };
  }
  return next;
}

/**
 * NewJobForm creates a job (POST /jobs). One Idempotency-Key per filled-in form: a retry
 * after a lost answer gets the job the first attempt made, never a second.
 */
function NewJobForm({ api, onCreated, onClose }: { api: Api; onCreated: (j: Job) => void; onClose: () => void }) {
  const [title, setTitle] = useState('');
  const [customer, setCustomer] = useState('');
  const [address, setAddress] = useState('');
  const key = useRef(newKey());
  const { busy, outcome, run } = useAction();
  const titleRef = useRef<HTMLInputElement>(null);
  useEffect(() => titleRef.current?.focus(), []);

  const edited = (set: (v: string) => void) => (e: { currentTarget: HTMLInputElement }) => {
    set(e.currentTarget.value);
    key.current = newKey(); // another job, not a retry of the last one
  };

  function submit(e: Event) {
    e.preventDefault();
    const body: NewJob = { title: title.trim(), customerId: customer.trim(), address: address.trim() };
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

  return (
    <form class="new-interview new-job" aria-labelledby="new-job-title" onSubmit={submit}>
      <h3 id="new-job-title">New job</h3>
      <label for="new-job-name">Title</label>
      <input id="new-job-name" ref={titleRef} required maxLength={200} value={title} onInput={edited(setTitle)} />
      <label for="new-job-customer">Customer</label>
      <input id="new-job-customer" required maxLength={100} placeholder="cust-2041" value={customer} onInput={edited(setCustomer)} />
      <label for="new-job-address">Address</label>
      <input id="new-job-address" required maxLength={500} value={address} onInput={edited(setAddress)} />
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
const zone = (() => {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';
  } catch {
    return 'local time';
  }
})();

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
