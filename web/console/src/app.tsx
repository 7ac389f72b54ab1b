// The console: sign-in, then the views, with the event feed beside them.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { createLocalClient } from '../../client/local';
import { type Api, createApi } from './api';
import { type Caller, type Demo, canManageJobs, demo, devToken, isExpired, isTechnician, parseToken, save, saved } from './auth';
import { EventFeed } from './events';
import { InterviewDetail, InterviewList } from './interviews';
import { Jobs } from './jobs';
import { LiveChannel, LiveContext } from './live';
import { type Route, href, useRoute } from './route';

const expiredNotice = 'Your session has expired or is no longer valid. Sign in again.';

export function App() {
  const [caller, setCaller] = useState<Caller | null>(() => saved());
  const [notice, setNotice] = useState('');
  const [demoData, setDemoData] = useState<Demo | null>(null);
  const [demoError, setDemoError] = useState(false);

  useEffect(() => {
    demo()
      .then(setDemoData)
      .catch(() => setDemoError(true));
  }, []);

  const signOut = (message: string) => {
    save(null);
    setCaller(null);
    setNotice(message);
  };
  const api = useMemo(() => (caller ? createApi(caller.token, () => signOut(expiredNotice)) : null), [caller?.token]);
  // One live connection per signed-in token, for every view.
  const live = useMemo(() => (api ? new LiveChannel(api) : null), [api]);
  useEffect(() => {
    live?.start();
    return () => live?.stop();
  }, [live]);

  if (!caller || !api) {
    return (
      <SignIn
        notice={notice}
        demo={demoData}
        demoError={demoError}
        onSignedIn={(c) => {
          save(c);
          setNotice('');
          setCaller(c);
        }}
      />
    );
  }
  return (
    <LiveContext.Provider value={live}>
      <Shell caller={caller} api={api} onSignOut={() => signOut('You have signed out.')} />
    </LiveContext.Provider>
  );
}

function SignIn(props: { notice: string; demo: Demo | null; demoError: boolean; onSignedIn: (c: Caller) => void }) {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState('');
  const [pasted, setPasted] = useState('');

  useEffect(() => {
    document.title = 'Sign in · lifecycle console';
  }, []);

  const use = (raw: string) => {
    const c = parseToken(raw);
    if (typeof c === 'string') return setError(c);
    if (isExpired(c)) return setError('That token has expired. Pick a demo user, or paste a fresh token (`make token`).');
    props.onSignedIn(c);
  };

  return (
    <main class="signin" id="main">
      <h1>lifecycle console</h1>
      <p class="hint">A local console for the lifecycle API: the same routes the product frontends call, as a demo user.</p>
      {props.notice && (
        <p class="notice" role="alert">
          {props.notice}
        </p>
      )}
      <section aria-labelledby="pick-title">
        <h2 id="pick-title">Sign in as a demo user</h2>
        {props.demoError && <p class="error" role="alert">The demo users could not be loaded: is `make run` running?</p>}
        {!props.demo && !props.demoError && <p class="hint">Loading demo users…</p>}
        <ul class="users">
          {props.demo?.users.map((u) => (
            <li key={u.sub}>
              <button
                type="button"
                class="primary"
                disabled={busy !== null}
                aria-busy={busy === u.sub}
                onClick={async () => {
                  setBusy(u.sub);
                  setError('');
                  try {
                    use(await devToken(u.sub, u.roles));
                  } catch (err) {
                    setError(`Could not get a token for ${u.sub}: ${err instanceof Error ? err.message : err}`);
                  } finally {
                    setBusy(null);
                  }
                }}
              >
                Sign in as {u.sub}
              </button>{' '}
              <span class="hint">
                {u.about}
                {u.roles.length > 0 && ` (${u.roles.join(', ')})`}
              </span>
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="paste-title">
        <h2 id="paste-title">Or paste a token</h2>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            setError('');
            use(pasted);
          }}
        >
          <label for="token">Bearer token (from `make token` or `make run`'s banner)</label>
          <textarea id="token" name="token" rows={3} spellcheck={false} value={pasted} onInput={(e) => setPasted(e.currentTarget.value)} />
          <button type="submit">Use this token</button>
        </form>
      </section>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </main>
  );
}

function Shell({ caller, api, onSignOut }: { caller: Caller; api: Api; onSignOut: () => void }) {
  const route = useRoute();
  const jobs = canManageJobs(caller);
  const jobsSection = jobs || isTechnician(caller);
  const key = JSON.stringify(route);
  const first = useRef(true);

  useEffect(() => {
    document.title = `${title(route)} · lifecycle console`;
    // After navigating, start keyboard and screen-reader users at the new view's heading.
    if (first.current) first.current = false;
    else document.getElementById('view-title')?.focus();
  }, [key]);

  return (
    <>
      <a class="skip" href="#main">
        Skip to the main content
      </a>
      <header class="top">
        <h1>lifecycle console</h1>
        <nav aria-label="Sections">
          <a href={href.interviews()} aria-current={route.view !== 'jobs' ? 'page' : undefined}>
            Interviews
          </a>
          {jobsSection && (
            <a href={href.jobs()} aria-current={route.view === 'jobs' ? 'page' : undefined}>
              Jobs
            </a>
          )}
          <a href="/docs">API docs</a>
        </nav>
        <p class="who">
          Signed in as <strong>{caller.sub}</strong>
          {caller.roles.length > 0 && ` (${caller.roles.join(', ')})`}{' '}
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>{' '}
          <ResetDemo />
        </p>
      </header>
      <div class="layout">
        <main id="main" tabIndex={-1}>
          <View route={route} api={api} jobs={jobs} caller={caller} />
        </main>
        <EventFeed />
      </div>
    </>
  );
}

/**
 * ResetDemo puts the local server's demo data back as it started (POST /_local/reset, what
 * `make reset` calls), then reloads the page so every view shows it.
 */
function ResetDemo() {
  const [state, setState] = useState<'idle' | 'busy' | 'failed'>('idle');
  async function reset() {
    setState('busy');
    try {
      const { data, response } = await createLocalClient().POST('/_local/reset');
      if (!data) throw new Error(`HTTP ${response.status}`);
      location.reload();
    } catch {
      setState('failed');
    }
  }
  return (
    <button type="button" onClick={reset} disabled={state === 'busy'} aria-busy={state === 'busy'}>
      {state === 'failed' ? 'Reset failed: retry' : 'Reset demo data'}
    </button>
  );
}

function title(r: Route): string {
  switch (r.view) {
    case 'interviews':
      return 'Interviews';
    case 'interview':
      return 'Interview';
    case 'jobs':
      return r.id ? 'Job' : 'Jobs';
  }
}

function View({ route, api, jobs, caller }: { route: Route; api: Api; jobs: boolean; caller: Caller }) {
  switch (route.view) {
    case 'interviews':
      return <InterviewList api={api} />;
    case 'interview':
      return <InterviewDetail key={route.id} api={api} id={route.id} action={route.action} />;
    case 'jobs':
      if (!jobs && !isTechnician(caller))
        return (
          <section aria-labelledby="view-title">
            <h2 id="view-title" tabIndex={-1}>
              Jobs
            </h2>
            <p>Jobs are for dispatchers, admins and technicians; {caller.sub} has none of these roles.</p>
          </section>
        );
      // Dispatchers and admins get the board, a technician their schedule; a technician
      // opens the jobs they are booked on, and the API decides which.
      return <Jobs api={api} id={route.id} manage={jobs} technician={isTechnician(caller)} />;
  }
}
