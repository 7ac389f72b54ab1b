// The API as the product frontends call it: under /api, with a bearer token. Every call
// either returns the response body or throws one of three errors the views tell apart.

export type SessionStatus = 'active' | 'paused' | 'completed' | 'cancelled';

export interface Session {
  id: string;
  title: string;
  status: SessionStatus;
  topicIds: string[];
  topicLabels?: string[];
  progress: number;
  score: number;
  targetScore?: number;
  interviewerId: string;
  createdAt: string;
  updatedAt: string;
  lastInteractionAt?: string;
  language?: string;
  difficulty?: number;
  recentMessages?: unknown[];
}

export interface SessionPage {
  items: Session[];
  nextCursor?: string;
}

export interface CancelInterviewResponse {
  success: true;
  message: string;
  sessionId: string;
  session: Session;
}

export type JobStatus = 'Unassigned' | 'Assigned' | 'InProgress' | 'Completed' | 'Cancelled';

export interface Assignment {
  id: string;
  technicianId: string;
  scheduledStart: string;
  scheduledEnd: string;
  status: 'Pending' | 'Confirmed' | 'Cancelled';
  version: number;
  cancelledAt?: string;
}

export interface Job {
  id: string;
  title: string;
  customerId?: string;
  address?: string;
  status: JobStatus;
  version: number;
  createdAt: string;
  updatedAt: string;
  cancelledAt?: string;
  cancelledBy?: string;
  cancelReason?: string;
  assignment?: Assignment;
}

/** The error body every route answers with (openapi.yaml: Error). */
export interface ErrorBody {
  error: string;
  code?: string;
  details?: string;
  currentStatus?: string;
  requestId?: string;
}

/** The API answered with an error status (other than 401). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(body.error);
  }
}

/** The request never got an answer: offer a retry. */
export class NetworkError extends Error {}

/** The token is missing, invalid or expired: back to sign-in. */
export class Unauthorized extends Error {}

export interface Api {
  listInterviews(status: SessionStatus | '', cursor?: string, limit?: number): Promise<SessionPage>;
  getInterview(id: string): Promise<Session>;
  pause(id: string, key: string): Promise<Session>;
  resume(id: string, key: string): Promise<Session>;
  cancelInterview(id: string, reason: string, key: string): Promise<Session>;
  getJob(id: string): Promise<Job>;
  cancelJob(id: string, reason: string, key: string): Promise<Job>;
}

/**
 * createApi binds the calls to a token. onUnauthorized runs on any 401 (before the call
 * throws Unauthorized), so the app can return to sign-in from wherever it happened.
 */
export function createApi(token: string, onUnauthorized: () => void): Api {
  async function call<T>(method: string, path: string, opts: { body?: unknown; key?: string } = {}): Promise<T> {
    const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    // One key per logical action: a retry of the same action sends the same key, so the
    // API applies it at most once and answers the retry with the original result.
    if (opts.key) headers['Idempotency-Key'] = opts.key;
    let res: Response;
    try {
      res = await fetch(`/api${path}`, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      });
    } catch (err) {
      throw new NetworkError(err instanceof Error ? err.message : String(err));
    }
    if (res.status === 401) {
      onUnauthorized();
      throw new Unauthorized('Unauthorized');
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      body = undefined;
    }
    if (!res.ok) {
      const err = body && typeof body === 'object' && 'error' in body ? (body as ErrorBody) : { error: `Request failed (HTTP ${res.status})` };
      throw new ApiError(res.status, err);
    }
    return body as T;
  }

  const seg = encodeURIComponent;
  return {
    listInterviews(status, cursor, limit = 5) {
      const q = new URLSearchParams({ limit: String(limit) });
      if (status) q.set('status', status);
      if (cursor) q.set('cursor', cursor);
      return call<SessionPage>('GET', `/interviews?${q}`);
    },
    getInterview: (id) => call<Session>('GET', `/interviews/${seg(id)}`),
    pause: (id, key) => call<Session>('POST', `/interviews/${seg(id)}/pause`, { key }),
    resume: (id, key) => call<Session>('POST', `/interviews/${seg(id)}/resume`, { key }),
    cancelInterview: async (id, reason, key) =>
      (await call<CancelInterviewResponse>('POST', `/interviews/${seg(id)}/cancel`, { body: reason ? { reason } : {}, key })).session,
    getJob: (id) => call<Job>('GET', `/jobs/${seg(id)}`),
    cancelJob: (id, reason, key) => call<Job>('POST', `/jobs/${seg(id)}/cancel`, { body: reason ? { reason } : {}, key }),
  };
}

/** The text to show for a failed call. */
export function describe(err: unknown): string {
  if (err instanceof ApiError) return err.body.error;
  if (err instanceof NetworkError) return 'Could not reach the API. Check that `make run` is still running, then retry.';
  return 'Something went wrong.';
}
