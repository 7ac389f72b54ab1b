// The dispatchers' board (GET /jobs, Dispatcher or Admin): every job in board-time order,
// earliest first, ten at a time (Load more follows nextCursor), with a status filter; each row
// shows the job's title (a link to the job), status, technician and window. It follows the
// live channel: a job event about a row changes it in place (from the message itself, or a
// read of the job when the message skips a version), a job that enters the filter (a new one,
// say) is read and takes its place, one that leaves it goes; after a reconnection the rows on
// show are read again.
import { useEffect, useRef, useState } from 'preact/hooks';
import { type Api, type Job, type JobStatus, describe, Unauthorized } from './api';
import { formatWindow } from './action';
import { StatusBadge } from './interviews';
import { applyMessage, boardOrder } from './jobstate';
import { useLive } from './live';
import { href } from './route';

const statuses: JobStatus[] = ['Unassigned', 'Assigned', 'InProgress', 'Completed', 'Cancelled'];
const statusLabel: Record<JobStatus, string> = {
  Unassigned: 'Unassigned',
  Assigned: 'Assigned',
  InProgress: 'In progress',
  Completed: 'Completed',
  Cancelled: 'Cancelled',
};

const pageSize = 10;
/**
 * With a status filter a page may come back empty and still have a nextCursor (the API reads
 * a bounded number of entries per page): a load follows at most this many such pages before
 * it shows what it has, with Load more.
 */
const maxEmptyPages = 5;

/**
 * merge puts fresh reads of jobs among the rows on show: a row already showing a later
 * version stays as it is; rows fresh does not name stay when keep says so; the result is in
 * the filter's status and in board order.
 */
function merge(rows: Job[], fresh: Job[], status: JobStatus | '', keep: (j: Job) => boolean): Job[] {
  const shown = new Map(rows.map((r) => [r.id, r]));
  const named = new Set(fresh.map((f) => f.id));
  const out = fresh.map((f) => {
    const r = shown.get(f.id);
    return r && r.version > f.version ? r : f;
  });
  for (const r of rows) if (!named.has(r.id) && keep(r)) out.push(r);
  return out.filter((j) => !status || j.status === status).sort(boardOrder);
}

export function Board({ api }: { api: Api }) {
  const [status, setStatus] = useState<JobStatus | ''>('');
  const [rows, setRows] = useState<Job[]>([]);
  const [cursor, setCursor] = useState<string>();
  const [loading, setLoading] = useState<'first' | 'more' | null>('first');
  const [error, setError] = useState<{ text: string; retry: () => void } | null>(null);
  // A load or read started under another filter is dropped when it lands.
  const generation = useRef(0);
  const shown = useRef<Job[]>([]);
  shown.current = rows;
  const filter = useRef(status);
  filter.current = status;

  async function load(first: boolean) {
    const gen = first ? ++generation.current : generation.current;
    if (first) {
      setRows([]);
      setCursor(undefined);
    }
    setLoading(first ? 'first' : 'more');
    setError(null);
    try {
      let next = first ? undefined : cursor;
      let got: Job[] = [];
      for (let pages = 1; ; pages++) {
        const page = await api.listJobs(status, next, pageSize);
        if (gen !== generation.current) return;
        got = got.concat(page.items);
        next = page.nextCursor;
        if (got.length > 0 || !next || pages >= maxEmptyPages) break;
      }
      setRows((prev) => merge(prev, got, status, () => true));
      setCursor(next);
    } catch (err) {
      if (err instanceof Unauthorized || gen !== generation.current) return;
      setError({ text: describe(err), retry: () => void load(first) });
    } finally {
      if (gen === generation.current) setLoading(null);
    }
  }

  useEffect(() => {
    void load(true);
  }, [status]);

  /** put shows a job as it is now: in its place on the board, or gone when out of the filter. */
  const put = (j: Job) => setRows((prev) => merge(prev, [j], filter.current, () => true));

  /** reread reads one job (strongly consistent, unlike the board's index) and puts it. */
  async function reread(id: string) {
    const gen = generation.current;
    try {
      const j = await api.getJob(id);
      if (gen === generation.current) put(j);
    } catch {
      // A job no one may read any more changes nothing here; the next read of the board will tell.
    }
  }

  /** refresh reads the rows on show again, quietly (after a reconnection). */
  async function refresh() {
    const gen = generation.current;
    const window = Math.min(100, Math.max(pageSize, shown.current.length));
    try {
      const page = await api.listJobs(filter.current, undefined, window);
      if (gen !== generation.current) return;
      const last = page.items[page.items.length - 1];
      // A row the read covered but did not return has left the filter; rows past it stay.
      const beyond = (r: Job) => page.nextCursor !== undefined && (!last || boardOrder(r, last) > 0);
      setRows((prev) => merge(prev, page.items, filter.current, beyond));
      if (shown.current.length <= window) setCursor(page.nextCursor);
    } catch {
      // The next message or reconnection reads again.
    }
  }

  useLive(
    (m) => {
      if (m.entity !== 'job') return;
      const row = shown.current.find((r) => r.id === m.entityId);
      if (row) {
        // Versions order one job's transitions: an older or repeated message changes
        // nothing; the next one says it all; one that skips a version means one was missed.
        if (m.version === row.version + 1) put(applyMessage(row, m));
        else if (m.version > row.version) void reread(row.id);
        return;
      }
      // Not on show: it belongs here now if it is in the filter's status.
      if (!filter.current || filter.current === m.detail.status) void reread(m.entityId);
    },
    () => void refresh(),
  );

  return (
    <section class="board" aria-labelledby="board-title" aria-busy={loading !== null}>
      <h3 id="board-title">The board</h3>
      <p class="hint">Every job, earliest first: by its booking's start, else the window its customer asked for, else when it was created.</p>
      <div class="toolbar">
        <label for="board-status">Status</label>
        <select id="board-status" value={status} onChange={(e) => setStatus(e.currentTarget.value as JobStatus | '')}>
          <option value="">All</option>
          {statuses.map((s) => (
            <option key={s} value={s}>
              {statusLabel[s]}
            </option>
          ))}
        </select>
        <button type="button" onClick={() => void load(true)} disabled={loading !== null}>
          Refresh
        </button>
      </div>
      <div aria-live="polite">
        {loading === 'first' && <p class="hint">Loading jobs…</p>}
        {!loading && !error && rows.length === 0 && (
          <p>
            No jobs{status ? ` that are ${statusLabel[status].toLowerCase()}` : ''}
            {cursor ? ' so far' : ''}.
          </p>
        )}
      </div>
      {error && (
        <div class="error" role="alert">
          <p>{error.text}</p>
          <button type="button" onClick={error.retry}>
            Retry
          </button>
        </div>
      )}
      {rows.length > 0 && (
        <table class="jobs" aria-labelledby="board-title">
          <thead>
            <tr>
              <th scope="col">Job</th>
              <th scope="col">Status</th>
              <th scope="col">Technician</th>
              <th scope="col">Window</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((j) => (
              <BoardRow key={j.id} job={j} />
            ))}
          </tbody>
        </table>
      )}
      {cursor && (
        <button type="button" onClick={() => void load(false)} disabled={loading !== null} aria-busy={loading === 'more'}>
          {loading === 'more' ? 'Loading…' : 'Load more'}
        </button>
      )}
    </section>
  );
}

function BoardRow({ job }: { job: Job }) {
  const a = job.assignment;
  const w = job.requestedWindow;
  return (
    <tr data-job-id={job.id} data-status={job.status}>
      <th scope="row">
        <a href={href.job(job.id)}>{job.title}</a>
      </th>
      <td>
        <StatusBadge status={job.status} />
      </td>
      <td data-field="technician">
        {a ? a.technicianId : '–'}
        {a?.status === 'Cancelled' && <span class="hint"> (booking cancelled)</span>}
      </td>
      <td data-field="window">
        {a ? (
          formatWindow(a.scheduledStart, a.scheduledEnd)
        ) : w ? (
          <>
            <span class="hint">requested</span> {formatWindow(w.start, w.end)}
          </>
        ) : (
          '–'
        )}
      </td>
    </tr>
  );
}
