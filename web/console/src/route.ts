// Views are addressed by the URL's hash, so a view can be linked, bookmarked and reloaded:
//   #/interviews                     the caller's sessions
//   #/interviews/<id>                one session
//   #/interviews/<id>/<action>       one session, offering that action (pause, resume, complete, cancel)
//   #/jobs                           the board (dispatchers, admins), my schedule (technicians)
//   #/jobs/<id>                      one job
import { useEffect, useState } from 'preact/hooks';

export type SessionAction = 'pause' | 'resume' | 'complete' | 'cancel';

export type Route =
  | { view: 'interviews' }
  | { view: 'interview'; id: string; action?: SessionAction }
  | { view: 'jobs'; id?: string };

const actions: readonly string[] = ['pause', 'resume', 'complete', 'cancel'];

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] === 'jobs') return parts[1] ? { view: 'jobs', id: parts[1] } : { view: 'jobs' };
  if (parts[0] === 'interviews' && parts[1]) {
    const action = actions.includes(parts[2]) ? (parts[2] as SessionAction) : undefined;
    return { view: 'interview', id: parts[1], action };
  }
  return { view: 'interviews' };
}

export function useRoute(): Route {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const onChange = () => setHash(location.hash);
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return parseRoute(hash);
}

export const href = {
  interviews: () => '#/interviews',
  interview: (id: string, action?: SessionAction) => `#/interviews/${encodeURIComponent(id)}${action ? `/${action}` : ''}`,
  jobs: () => '#/jobs',
  job: (id: string) => `#/jobs/${encodeURIComponent(id)}`,
};
