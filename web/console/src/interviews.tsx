// Interviews: the caller's sessions, one session, and the actions seed 001 describes:
// Pause only when active, Resume only when paused, Complete when active, Cancel (with an
// optional reason) when active or paused, as the API's allowedActions say (the console
// keeps no copy of the lifecycle's rules); each button disabled and busy during its call; the row updated from
// the response. Both views follow the live channel: a transition made anywhere (another
// tab, another device, curl) shows at once, and so does the progress and score the
// conversation service records as the interview goes on; after a reconnection they refetch.
import { useEffect, useRef, useState } from 'preact/hooks';
import { type Api, type NewSession, type Session, type SessionStatus, describe, Unauthorized } from './api';
import { OutcomeView, ReasonDialog, formatTime, newKey, useAction } from './action';
import { type LiveMessage, newer, useLive } from './live';
import { type SessionAction, href } from './route';

const statuses: SessionStatus[] = ['active', 'paused', 'completed', 'cancelled'];

/** inAnHour is the time an hour from now, on the minute, as a datetime-local input shows it. */
function inAnHour(): string {
  const t = new Date(Date.now() + 60 * 60 * 1000);
  t.setSeconds(0, 0);
  const local = new Date(t.getTime() - t.getTimezoneOffset() * 60 * 1000);
  return local.toISOString().slice(0, 16);
}

const verbs: Record<SessionAction, { label: string; busy: string; done: string }> = {
  pause: { label: 'Pause', busy: 'Pausing…', done: 'Interview paused.' },
  resume: { label: 'Resume', busy: 'Resuming…', done: 'Interview resumed.' },
  complete: { label: 'Complete', busy: 'Completing…', done: 'Interview completed.' },
  cancel: { label: 'Cancel', busy: 'Cancelling…', done: 'Interview cancelled.' },
};

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge badge-${status.toLowerCase()}`}>{status}</span>;
}

/**
 * SessionActions offers what the API says the caller may do now (the session's
 * allowedActions, in the API's order). With no session (it could not be read), it offers
 * only the action the URL asked for, and the API decides.
 */
export function SessionActions(props: {
  api: Api;
  id: string;
  title?: string;
  titleId?: string;
  status?: SessionStatus;
  /** The session's allowedActions: the console offers those it has a button for. */
  allowed?: Session['allowedActions'];
  offer?: SessionAction;
  onUpdated: (s: Session) => void;
}) {
  const { api, id, status } = props;
  const { busy, outcome, run } = useAction();
  const [asking, setAsking] = useState(false);
  // A pause until a time: the local time asked for ("" while the form is closed).
  const [until, setUntil] = useState<string | null>(null);
  const focusRef = useRef<HTMLButtonElement>(null);
  const order: SessionAction[] = ['pause', 'resume', 'complete', 'cancel'];
  const offered = props.allowed ? order.filter((a) => props.allowed?.includes(a)) : props.offer ? [props.offer] : [];

  useEffect(() => {
    if (props.offer) focusRef.current?.focus();
  }, [props.offer]);

  function act(a: SessionAction, reason = '', resumeAt?: string) {
    setAsking(false);
    setUntil(null);
    void run(
      a,
      (key) =>
        a === 'pause'
          ? api.pause(id, key, resumeAt)
          : a === 'resume'
            ? api.resume(id, key)
            : a === 'complete'
              ? api.complete(id, key)
              : api.cancelInterview(id, reason, key),
      (s) => {
        props.onUpdated(s);
        return s.resumeAt ? `Interview paused until ${formatTime(s.resumeAt)}.` : verbs[a].done;
      },
    );
  }

  return (
    <div class="actions">
      {offered.length > 0 ? (
        <div class="buttons" role="group" aria-label="Actions" aria-describedby={props.titleId}>
          {offered.map((a) => (
            <button
              key={a}
              type="button"
              ref={a === props.offer ? focusRef : undefined}
              class={a === 'cancel' ? 'danger' : 'primary'}
              disabled={busy !== null}
              aria-busy={busy === a}
              onClick={() => (a === 'cancel' ? setAsking(true) : act(a))}
            >
              {busy === a ? verbs[a].busy : verbs[a].label}
            </button>
          ))}
          {offered.includes('pause') && until === null && (
            <button type="button" class="secondary" disabled={busy !== null} onClick={() => setUntil(inAnHour())}>
              Pause until…
            </button>
          )}
        </div>
      ) : (
        status && <p class="hint">No actions: a {status} interview stays {status}.</p>
      )}
      {until !== null && offered.includes('pause') && (
        <form
          class="pause-until"
          aria-label="Pause until a time"
          onSubmit={(e) => {
            e.preventDefault();
            act('pause', '', new Date(until).toISOString());
          }}
        >
          <label>
            Resumes by itself at <input type="datetime-local" step={1} required value={until} onInput={(e) => setUntil(e.currentTarget.value)} />
          </label>
          <button type="submit" class="primary" disabled={busy !== null}>
            Pause until then
          </button>
          <button type="button" onClick={() => setUntil(null)}>
            Never mind
          </button>
        </form>
      )}
      <OutcomeView outcome={outcome} />
      <ReasonDialog
        open={asking}
        title={props.title ? `Cancel “${props.title}”?` : 'Cancel this interview?'}
        intro={<p>A cancelled interview cannot be resumed.</p>}
        confirm="Cancel interview"
        keep="Keep interview"
        onConfirm={(reason) => act('cancel', reason)}
        onClose={() => setAsking(false)}
      />
    </div>
  );
}

function SessionCard({ api, session, onUpdated }: { api: Api; session: Session; onUpdated: (s: Session) => void }) {
  const titleId = `title-${session.id}`;
  return (
    <li class="card" data-session-id={session.id} data-status={session.status}>
      <article aria-labelledby={titleId}>
        <header>
          <h3 id={titleId}>
            <a href={href.interview(session.id)}>{session.title}</a>
          </h3>
          <StatusBadge status={session.status} />
        </header>
        <p class="meta">
          Progress {Math.round(session.progress * 100)}% · score {session.score}
          {session.targetScore !== undefined && ` of ${session.targetScore}`} · updated {formatTime(session.updatedAt)}
        </p>
        {session.status === 'paused' && session.resumeAt && (
          <p class="meta" data-field="resume-at">
            Resumes by itself at {formatTime(session.resumeAt)}
          </p>
        )}
        <SessionActions
          api={api}
          id={session.id}
          title={session.title}
          titleId={titleId}
          status={session.status}
          allowed={session.allowedActions}
          onUpdated={onUpdated}
        />
      </article>
    </li>
  );
}

const pageSize = 5;

/** What a session's allowedActions may name (a live message's may name a job's too): each, once. */
type SessionAllowed = Session['allowedActions'][number];
const sessionAllowed: Record<SessionAllowed, true> = { cancel: true, pause: true, resume: true, complete: true, record: true };
const isSessionAllowed = (a: string): a is SessionAllowed => Object.hasOwn(sessionAllowed, a);

/**
 * applyMessage returns the session as a live message about it leaves it: its status and
 * allowedActions, and the score (InterviewCompleted, InterviewProgressRecorded) and progress
 * (InterviewProgressRecorded) when the message carries them.
 */
function applyMessage(s: Session, m: LiveMessage): Session {
  const { score, progress, resumeAt } = m.detail;
  // Only a pause until a time plans a resume; every other transition ends a plan.
  const { resumeAt: _planned, ...rest } = s;
  return {
    ...rest,
    status: m.detail.status as SessionStatus,
    updatedAt: m.detail.occurredAt,
    allowedActions: m.allowedActions.filter(isSessionAllowed),
    ...(score !== undefined ? { score } : {}),
    ...(progress !== undefined ? { progress } : {}),
    ...(m.type === 'InterviewPaused' && resumeAt ? { resumeAt } : {}),
  };
}

/**
 * addsMessage reports whether a live message records a message of the conversation: it
 * never carries the message itself, so a view that shows the history refetches the session.
 */
function addsMessage(m: LiveMessage): boolean {
  return m.type === 'InterviewProgressRecorded';
}

/**
 * mergeRefreshed takes a refetch of the first `window` sessions: they replace the view's,
 * except a row the view already shows in a later state (its own response, or a message
 * that overtook the refetch); rows loaded beyond the window stay.
 */
function mergeRefreshed(prev: Session[], fresh: Session[], window: number): Session[] {
  const shown = new Map(prev.map((p) => [p.id, p]));
  const merged = fresh.map((f) => {
    const p = shown.get(f.id);
    return p && Date.parse(p.updatedAt) > Date.parse(f.updatedAt) ? p : f;
  });
  return [...merged, ...prev.slice(window).filter((p) => !fresh.some((f) => f.id === p.id))];
}

/** list splits a comma-separated field into its trimmed, non-empty parts. */
function list(s: string): string[] {
  return s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

/**
 * NewInterviewForm creates a session (POST /interviews). One Idempotency-Key per filled-in
 * form: a retry after a lost answer (Retry, or pressing Create again) gets the session the
 * first attempt made, never a second; editing the form starts a new one.
 */
function NewInterviewForm({ api, onCreated, onClose }: { api: Api; onCreated: (s: Session) => void; onClose: () => void }) {
  const [title, setTitle] = useState('');
  const [topics, setTopics] = useState('');
  const [interviewer, setInterviewer] = useState('');
  const [difficulty, setDifficulty] = useState('');
  const key = useRef(newKey());
  const { busy, outcome, run } = useAction();
  const titleRef = useRef<HTMLInputElement>(null);
  useEffect(() => titleRef.current?.focus(), []);

  const edited = (set: (v: string) => void) => (e: { currentTarget: HTMLInputElement | HTMLSelectElement }) => {
    set(e.currentTarget.value);
    key.current = newKey(); // another session, not a retry of the last one
  };

  function submit(e: Event) {
    e.preventDefault();
    const body: NewSession = { title: title.trim(), topicIds: list(topics), interviewerId: interviewer.trim() };
    if (difficulty) body.difficulty = Number(difficulty) as NewSession['difficulty'];
    void run(
      'create',
      (k) => api.createInterview(body, k),
      (s) => {
        onCreated(s);
        return `Interview “${s.title}” created.`;
      },
      key.current,
    );
  }

  return (
    <form class="new-interview" aria-labelledby="new-interview-title" onSubmit={submit}>
      <h3 id="new-interview-title">New interview</h3>
      <label for="new-title">Title</label>
      <input id="new-title" ref={titleRef} required maxLength={200} value={title} onInput={edited(setTitle)} />
      <label for="new-topics">Topics (comma-separated)</label>
      <input id="new-topics" value={topics} onInput={edited(setTopics)} />
      <label for="new-interviewer">Interviewer</label>
      <input id="new-interviewer" required maxLength={100} value={interviewer} onInput={edited(setInterviewer)} />
      <label for="new-difficulty">Difficulty</label>
      <select id="new-difficulty" value={difficulty} onChange={edited(setDifficulty)}>
        <option value="">–</option>
        {[1, 2, 3, 4, 5].map((d) => (
          <option key={d} value={String(d)}>
            {d}
          </option>
        ))}
      </select>
      <div class="buttons">
        <button type="submit" class="primary" disabled={busy !== null} aria-busy={busy === 'create'}>
          {busy === 'create' ? 'Creating…' : 'Create'}
        </button>
        <button type="button" onClick={onClose} disabled={busy !== null}>
          Close
        </button>
      </div>
      <OutcomeView outcome={outcome} />
    </form>
  );
}

export function InterviewList({ api }: { api: Api }) {
  const [status, setStatus] = useState<SessionStatus | ''>('');
  const [items, setItems] = useState<Session[]>([]);
  const [cursor, setCursor] = useState<string>();
  const [loading, setLoading] = useState<'first' | 'more' | null>('first');
  const [error, setError] = useState<{ text: string; retry: () => void } | null>(null);
  const [creating, setCreating] = useState(false);
  const generation = useRef(0);
  const shown = useRef<Session[]>([]);
  shown.current = items;

  async function load(first: boolean) {
    const gen = first ? ++generation.current : generation.current;
    setLoading(first ? 'first' : 'more');
    setError(null);
    try {
      const page = await api.listInterviews(status, first ? undefined : cursor, pageSize);
      if (gen !== generation.current) return; // the filter changed meanwhile
      setItems((prev) => (first ? page.items : [...prev, ...page.items.filter((s) => !prev.some((p) => p.id === s.id))]));
      setCursor(page.nextCursor);
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

  /** refresh refetches the rows on show, quietly (after a reconnection, or for a new row). */
  async function refresh() {
    const gen = generation.current;
    const window = Math.min(100, Math.max(pageSize, shown.current.length));
    try {
      const page = await api.listInterviews(status, undefined, window);
      if (gen !== generation.current) return;
      setItems((prev) => mergeRefreshed(prev, page.items, window));
      if (shown.current.length <= window) setCursor(page.nextCursor);
    } catch {
      // The next message or reconnection refreshes again; Refresh is there meanwhile.
    }
  }

  useLive(
    (m) => {
      if (m.entity !== 'interview') return;
      const current = shown.current.find((p) => p.id === m.entityId);
      if (!current) {
        // Not on show: it belongs here now if it is in the filter's status.
        if (!status || status === m.detail.status) void refresh();
        return;
      }
      if (!newer(m, current.updatedAt)) return; // the row already shows a later state
      const updated = applyMessage(current, m);
      // Newest first: the transition makes it the newest; out of the filter, it leaves.
      setItems((prev) => [...(status && status !== updated.status ? [] : [updated]), ...prev.filter((p) => p.id !== updated.id)]);
    },
    () => void refresh(),
  );

  const replace = (s: Session) => setItems((prev) => prev.map((p) => (p.id === s.id ? s : p)));
  // A new session is the newest: first, when the filter shows active ones.
  const created = (s: Session) => {
    if (!status || status === s.status) setItems((prev) => [s, ...prev.filter((p) => p.id !== s.id)]);
  };

  return (
    <section aria-labelledby="view-title">
      <h2 id="view-title" tabIndex={-1}>
        Your interviews
      </h2>
      <div class="toolbar">
        <label for="status-filter">Status</label>
        <select id="status-filter" value={status} onChange={(e) => setStatus(e.currentTarget.value as SessionStatus | '')}>
          <option value="">All</option>
          {statuses.map((s) => (
            <option key={s} value={s}>
              {s[0].toUpperCase() + s.slice(1)}
            </option>
          ))}
        </select>
        <button type="button" onClick={() => void load(true)} disabled={loading !== null}>
          Refresh
        </button>
        <button type="button" class="primary" onClick={() => setCreating(true)} disabled={creating} aria-expanded={creating}>
          New interview
        </button>
      </div>
      {creating && <NewInterviewForm api={api} onCreated={created} onClose={() => setCreating(false)} />}
      <div aria-live="polite">
        {loading === 'first' && <p class="hint">Loading interviews…</p>}
        {!loading && !error && items.length === 0 && <p>No interviews{status ? ` that are ${status}` : ''}.</p>}
      </div>
      {error && (
        <div class="error" role="alert">
          <p>{error.text}</p>
          <button type="button" onClick={error.retry}>
            Retry
          </button>
        </div>
      )}
      <ul class="cards" aria-label="Interviews">
        {items.map((s) => (
          <SessionCard key={s.id} api={api} session={s} onUpdated={replace} />
        ))}
      </ul>
      {cursor && (
        <button type="button" onClick={() => void load(false)} disabled={loading !== null} aria-busy={loading === 'more'}>
          {loading === 'more' ? 'Loading…' : 'Load more'}
        </button>
      )}
    </section>
  );
}

export function InterviewDetail({ api, id, action }: { api: Api; id: string; action?: SessionAction }) {
  const [session, setSession] = useState<Session | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);

  /** refetch reads the session again, quietly, unless the view already shows a later state. */
  function refetch() {
    api
      .getInterview(id)
      .then((fresh) => setSession((s) => (!s || Date.parse(fresh.updatedAt) >= Date.parse(s.updatedAt) ? fresh : s)))
      .catch(() => {});
  }

  useLive(
    (m) => {
      if (m.entity !== 'interview' || m.entityId !== id) return;
      setSession((s) => (s && newer(m, s.updatedAt) ? applyMessage(s, m) : s));
      // Progress and score show at once; the new message of the history comes with a read
      // (unless the view already shows a later state, which has it).
      if (addsMessage(m) && (!session || newer(m, session.updatedAt))) refetch();
    },
    refetch,
  );

  useEffect(() => {
    let live = true;
    setSession(null);
    setError(null);
    setLoading(true);
    api
      .getInterview(id)
      .then((s) => live && setSession(s))
      .catch((err) => live && !(err instanceof Unauthorized) && setError(describe(err)))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [api, id]);

  return (
    <section aria-labelledby="view-title" class="detail" data-session-id={id}>
      <p>
        <a href={href.interviews()}>← All interviews</a>
      </p>
      <h2 id="view-title" tabIndex={-1}>
        {session?.title ?? 'Interview'}
      </h2>
      <p class="meta">
        Session <code>{id}</code>
      </p>
      {loading && <p class="hint">Loading…</p>}
      {error && (
        <div class="error" role="alert">
          <p>Could not load this interview: {error}</p>
        </div>
      )}
      {session && (
        <dl class="fields">
          <dt>Status</dt>
          <dd>
            <StatusBadge status={session.status} />
          </dd>
          <dt>Progress</dt>
          <dd data-field="progress">{Math.round(session.progress * 100)}%</dd>
          <dt>Score</dt>
          <dd data-field="score">
            {session.score}
            {session.targetScore !== undefined && ` (target ${session.targetScore})`}
          </dd>
          <dt>Topics</dt>
          <dd>{(session.topicLabels ?? session.topicIds).join(', ') || '–'}</dd>
          <dt>Interviewer</dt>
          <dd>{session.interviewerId}</dd>
          <dt>Created</dt>
          <dd>{formatTime(session.createdAt)}</dd>
          <dt>Updated</dt>
          <dd>{formatTime(session.updatedAt)}</dd>
          {session.status === 'paused' && session.resumeAt && (
            <>
              <dt>Resumes</dt>
              <dd data-field="resume-at">by itself at {formatTime(session.resumeAt)}</dd>
            </>
          )}
          {session.completedAt && (
            <>
              <dt>Completed</dt>
              <dd data-field="completed">{formatTime(session.completedAt)}</dd>
            </>
          )}
          <dt>Recent messages</dt>
          <dd data-field="recent-messages">{session.recentMessages?.length ?? 0}</dd>
          {session.cancelledAt && (
            <>
              <dt>Cancelled</dt>
              <dd data-field="cancelled">
                {formatTime(session.cancelledAt)}
                {session.cancelledBy && ` by ${session.cancelledBy}`}
              </dd>
              <dt>Reason</dt>
              <dd data-field="cancel-reason">{session.cancelReason || '–'}</dd>
            </>
          )}
        </dl>
      )}
      {!loading && (session || action) && (
        <SessionActions
          api={api}
          id={id}
          title={session?.title}
          titleId="view-title"
          status={session?.status}
          allowed={session?.allowedActions}
          offer={action}
          onUpdated={setSession}
        />
      )}
    </section>
  );
}
