// Jobs (Dispatcher and Admin): look a job up by id, see it with its assignment, cancel it
// with an optional reason. The API cancels the assignment in the same write. The card
// follows the live channel: a cancel made anywhere shows at once.
import { useEffect, useState } from 'preact/hooks';
import { type Api, type Job, describe, Unauthorized } from './api';
import type { DemoJob } from './auth';
import { OutcomeView, ReasonDialog, formatTime, useAction } from './action';
import { type LiveMessage, useLive } from './live';
import { StatusBadge } from './interviews';
import { href } from './route';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function Jobs({ api, id, demoJobs }: { api: Api; id?: string; demoJobs: DemoJob[] }) {
  const [input, setInput] = useState(id ?? '');
  const [invalid, setInvalid] = useState(false);
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
      </form>
      {invalid && (
        <p id="job-id-error" class="error" role="alert">
          A job id is a UUID, like 0b000000-0000-4000-8000-000000000003.
        </p>
      )}
      {id ? (
        <JobCard key={id} api={api} id={id} />
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

/** cancelledBy returns the job as a JobCancelled message leaves it. */
function cancelledBy(j: Job, m: LiveMessage): Job {
  const d = m.detail;
  const a = j.assignment && d.assignment?.id === j.assignment.id ? { ...j.assignment, status: 'Cancelled' as const, cancelledAt: d.occurredAt } : j.assignment;
  return {
    ...j,
    status: 'Cancelled',
    version: m.version,
    updatedAt: d.occurredAt,
    cancelledAt: d.occurredAt,
    cancelledBy: d.actor?.sub,
    cancelReason: d.reason,
    assignment: a,
    allowedActions: m.allowedActions.filter((a): a is 'cancel' => a === 'cancel'),
  };
}

function JobCard({ api, id }: { api: Api; id: string }) {
  const [job, setJob] = useState<Job | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [asking, setAsking] = useState(false);
  const { busy, outcome, run } = useAction();

  useLive(
    (m) => {
      // Versions order one job's transitions: an older or repeated message changes nothing.
      if (m.type === 'JobCancelled' && m.entityId === id) setJob((j) => (j && m.version > j.version ? cancelledBy(j, m) : j));
    },
    () => {
      api
        .getJob(id)
        .then((fresh) => setJob((j) => (!j || fresh.version >= j.version ? fresh : j)))
        .catch(() => {});
    },
  );

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

  if (error)
    return (
      <div class="error" role="alert">
        <p>Could not load job {id}: {error}</p>
      </div>
    );
  if (!job) return <p class="hint">Loading job…</p>;

  const a = job.assignment;
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
        <dt>Version</dt>
        <dd>{job.version}</dd>
        <dt>Updated</dt>
        <dd>{formatTime(job.updatedAt)}</dd>
        {job.cancelledAt && (
          <>
            <dt>Cancelled</dt>
            <dd>
              {formatTime(job.cancelledAt)} by {job.cancelledBy ?? 'unknown'}
              {job.cancelReason && `: “${job.cancelReason}”`}
            </dd>
          </>
        )}
      </dl>
      <section class="assignment" aria-labelledby="assignment-title" data-assignment-status={a?.status ?? 'none'}>
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
            <dd>
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
        {job.allowedActions.includes('cancel') ? (
          <div class="buttons" role="group" aria-label="Actions" aria-describedby="job-title">
            <button type="button" class="danger" disabled={busy !== null} aria-busy={busy !== null} onClick={() => setAsking(true)}>
              {busy ? 'Cancelling…' : 'Cancel job'}
            </button>
          </div>
        ) : (
          <p class="hint">No actions: a {job.status} job cannot be cancelled.</p>
        )}
        <OutcomeView outcome={outcome} />
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
              setJob(j);
              return j.assignment ? 'Job cancelled, with its assignment.' : 'Job cancelled.';
            },
          );
        }}
        onClose={() => setAsking(false)}
      />
    </article>
  );
}
