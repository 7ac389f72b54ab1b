// A technician's own schedule (GET /technicians/me/assignments): their bookings over seven
// days from today (the browser's days and times), Earlier and Later a week at a time, each
// booking with its job's title and status and a link to the job, where confirm, start and
// complete are. The schedule holds only the job's id: each job is read once (GET
// /jobs/{id}, which the technician its assignment names may read) and kept up to date by the
// live channel. Any job event that reaches the technician (a booking made, moved, confirmed,
// started, completed, taken away or cancelled) reads the schedule again, as does a
// reconnection.
import { useEffect, useRef, useState } from 'preact/hooks';
import { type Api, type Job, type Schedule, describe, Unauthorized } from './api';
import { formatWindow, zone } from './action';
import { StatusBadge } from './interviews';
import { applyMessage } from './jobstate';
import { useLive } from './live';
import { href } from './route';

const days = 7;

/** The start of the browser's day that an instant falls on, moved by n days. */
function dayStart(d: Date, n = 0): Date {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate() + n);
}

const dateText = (d: Date) => d.toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });

export function MySchedule({ api }: { api: Api }) {
  const today = dayStart(new Date());
  const [from, setFrom] = useState(today);
  const to = dayStart(from, days);
  const [schedule, setSchedule] = useState<Schedule | null>(null);
  const [jobs, setJobs] = useState<Record<string, Job>>({});
  const [error, setError] = useState<{ text: string; retry: () => void } | null>(null);
  const generation = useRef(0);
  const known = useRef(jobs);
  known.current = jobs;

  /** keep records a read of a job unless a later version is already known. */
  const keep = (j: Job) => setJobs((prev) => (prev[j.id] && prev[j.id].version > j.version ? prev : { ...prev, [j.id]: j }));

  /** load reads the schedule (quietly: keeping what is shown until the answer), then the jobs it names that are not known yet. */
  async function load(quiet: boolean) {
    const gen = ++generation.current;
    if (!quiet) {
      setSchedule(null);
      setError(null);
    }
    try {
      const s = await api.mySchedule(from.toISOString(), to.toISOString());
      if (gen !== generation.current) return;
      setSchedule(s);
      setError(null);
      const unknown = [...new Set(s.bookings.map((b) => b.jobId))].filter((id) => !known.current[id]);
      await Promise.all(
        unknown.map((id) =>
          api
            .getJob(id)
            .then(keep)
            .catch(() => {}), // the booking shows with its job's id
        ),
      );
    } catch (err) {
      if (err instanceof Unauthorized || gen !== generation.current) return;
      if (!quiet) setError({ text: describe(err), retry: () => void load(false) });
    }
  }

  useEffect(() => {
    void load(false);
  }, [from.getTime()]);

  useLive(
    (m) => {
      if (m.entity !== 'job') return;
      const j = known.current[m.entityId];
      // The next version of a job says all it changed; after a gap the job is read again.
      if (j && m.version === j.version + 1) keep(applyMessage(j, m));
      else if (j && m.version > j.version)
        setJobs((prev) => {
          const next = { ...prev };
          delete next[m.entityId];
          return next;
        });
      void load(true);
    },
    () => {
      setJobs({});
      void load(true);
    },
  );

  const thisWeek = from.getTime() === today.getTime();
  return (
    <section class="my-schedule" aria-labelledby="schedule-title" aria-busy={!schedule && !error}>
      <h3 id="schedule-title">My schedule</h3>
      <div class="toolbar">
        <button type="button" onClick={() => setFrom(dayStart(from, -days))}>
          ← Earlier
        </button>
        <p class="range" data-from={from.toISOString()}>
          {dateText(from)} – {dateText(dayStart(to, -1))}
        </p>
        <button type="button" onClick={() => setFrom(dayStart(from, days))}>
          Later →
        </button>
        {!thisWeek && (
          <button type="button" onClick={() => setFrom(today)}>
            From today
          </button>
        )}
      </div>
      <p class="hint">Your bookings, in {zone}. Open one to confirm, start or complete it.</p>
      <div aria-live="polite">
        {!schedule && !error && <p class="hint">Loading your schedule…</p>}
        {schedule && schedule.bookings.length === 0 && <p>No bookings {thisWeek ? 'in the next seven days' : 'in these seven days'}.</p>}
      </div>
      {error && (
        <div class="error" role="alert">
          <p>{error.text}</p>
          <button type="button" onClick={error.retry}>
            Retry
          </button>
        </div>
      )}
      {schedule && schedule.bookings.length > 0 && (
        <table class="jobs" aria-labelledby="schedule-title">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Job</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {schedule.bookings.map((b) => {
              const j = jobs[b.jobId];
              return (
                <tr key={b.assignmentId} data-job-id={b.jobId} data-start={b.start} data-end={b.end} data-status={j?.status}>
                  <td data-field="window">{formatWindow(b.start, b.end)}</td>
                  <th scope="row">
                    <a href={href.job(b.jobId)}>{j?.title ?? b.jobId}</a>
                  </th>
                  <td>{j ? <StatusBadge status={j.status} /> : '–'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
