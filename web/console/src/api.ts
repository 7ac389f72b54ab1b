// The API as the product frontends call it: under /api, with a bearer token, through the
// typed client generated from openapi.yaml (web/client). Every call either returns the
// response body or throws one of three errors the views tell apart.
import {
  type components,
  createLifecycleClient,
  type ErrorBody,
  type GatewayError,
  type Job,
  type JobStatus,
  type LiveTicket,
  type NewSession,
  type Session,
  type SessionPage,
  type SessionStatus,
} from '../../client';

export type NewJob = components['schemas']['NewJob'];
/** A booking of a technician into a window (POST /jobs/{id}/assign). */
export type AssignBody = components['schemas']['AssignBody'];
/** A booking's new window (POST /jobs/{id}/reschedule). */
export type RescheduleBody = components['schemas']['RescheduleBody'];
/** A page of the dispatchers' board (GET /jobs), in board-time order. */
export type JobPage = components['schemas']['JobPage'];
/** A technician's bookings that meet a span of time (GET /technicians/{id}/assignments). */
export type Schedule = components['schemas']['Schedule'];
/** A transition of a job that takes no body, by its allowedActions name. */
export type JobStep = 'confirm' | 'start' | 'complete';

export type { Assignment, ErrorBody, Job, JobStatus, LiveMessage, LiveTicket, NewSession, Session, SessionPage, SessionStatus } from '../../client';

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
  /** Creates a session owned by the caller; a retry with the same key gets the same one. */
  createInterview(body: NewSession, key: string): Promise<Session>;
  /** Pauses the session; with resumeAt (RFC 3339), until that time, when it resumes itself. */
  pause(id: string, key: string, resumeAt?: string): Promise<Session>;
  resume(id: string, key: string): Promise<Session>;
  complete(id: string, key: string): Promise<Session>;
  cancelInterview(id: string, reason: string, key: string): Promise<Session>;
  getJob(id: string): Promise<Job>;
  /** A page of the dispatchers' board (Dispatcher or Admin), earliest first; '' is every status. */
  listJobs(status: JobStatus | '', cursor?: string, limit?: number): Promise<JobPage>;
  /** The caller's own bookings that meet [from, to) (a technician; at most 14 days apart). */
  mySchedule(from: string, to: string): Promise<Schedule>;
  cancelJob(id: string, reason: string, key: string): Promise<Job>;
  /** Creates an Unassigned job (Dispatcher or Admin); a retry with the same key gets the same one. */
  createJob(body: NewJob, key: string): Promise<Job>;
  /** Books a technician into a window; a 409 BOOKING_CONFLICT names the job holding the time. */
  assignJob(id: string, body: AssignBody, key: string): Promise<Job>;
  rescheduleJob(id: string, body: RescheduleBody, key: string): Promise<Job>;
  /** confirm, start (the booked technician) or complete (the technician, a dispatcher or an admin). */
  stepJob(id: string, step: JobStep, key: string): Promise<Job>;
  /** A single-use ticket for the live channel (a retry simply gets another). */
  liveTicket(): Promise<LiveTicket>;
}

/** What openapi-fetch resolves to: the body on success, the error body otherwise. */
interface Result<T> {
  data?: T;
  error?: ErrorBody | GatewayError;
  response: Response;
}

/**
 * createApi binds the calls to a token. onUnauthorized runs on any 401 (before the call
 * throws Unauthorized), so the app can return to sign-in from wherever it happened.
 */
export function createApi(token: string, onUnauthorized: () => void): Api {
  const client = createLifecycleClient({ token: () => token });

  async function settle<T>(call: () => Promise<Result<T>>): Promise<T> {
    let result: Result<T>;
    try {
      result = await call();
    } catch (err) {
      throw new NetworkError(err instanceof Error ? err.message : String(err));
    }
    const { data, error, response } = result;
    if (response.status === 401) {
      onUnauthorized();
      throw new Unauthorized('Unauthorized');
    }
    if (!response.ok || data === undefined) {
      const body = error && 'error' in error ? error : { error: `Request failed (HTTP ${response.status})` };
      throw new ApiError(response.status, body);
    }
    return data;
  }

  // One key per logical action: a retry of the same action sends the same key, so the API
  // applies it at most once and answers the retry with the original result.
  const keyed = (key: string) => ({ 'Idempotency-Key': key });
  const reasonBody = (reason: string) => (reason ? { reason } : {});

  return {
    listInterviews: (status, cursor, limit = 5) =>
      settle(() =>
        client.GET('/interviews', {
          params: { query: { limit, ...(status ? { status } : {}), ...(cursor ? { cursor } : {}) } },
        }),
      ),
    getInterview: (id) => settle(() => client.GET('/interviews/{id}', { params: { path: { id } } })),
    createInterview: (body, key) => settle(() => client.POST('/interviews', { params: { header: keyed(key) }, body })),
    pause: (id, key, resumeAt) =>
      settle(() =>
        client.POST('/interviews/{id}/pause', { params: { path: { id }, header: keyed(key) }, body: resumeAt ? { resumeAt } : {} }),
      ),
    resume: (id, key) => settle(() => client.POST('/interviews/{id}/resume', { params: { path: { id }, header: keyed(key) } })),
    complete: (id, key) => settle(() => client.POST('/interviews/{id}/complete', { params: { path: { id }, header: keyed(key) } })),
    cancelInterview: async (id, reason, key) =>
      (
        await settle(() =>
          client.POST('/interviews/{id}/cancel', { params: { path: { id }, header: keyed(key) }, body: reasonBody(reason) }),
        )
      ).session,
    getJob: (id) => settle(() => client.GET('/jobs/{id}', { params: { path: { id } } })),
    listJobs: (status, cursor, limit = 10) =>
      settle(() =>
        client.GET('/jobs', {
          params: { query: { limit, ...(status ? { status } : {}), ...(cursor ? { cursor } : {}) } },
        }),
      ),
    mySchedule: (from, to) =>
      settle(() => client.GET('/technicians/{id}/assignments', { params: { path: { id: 'me' }, query: { from, to } } })),
    cancelJob: (id, reason, key) =>
      settle(() => client.POST('/jobs/{id}/cancel', { params: { path: { id }, header: keyed(key) }, body: reasonBody(reason) })),
    createJob: (body, key) => settle(() => client.POST('/jobs', { params: { header: keyed(key) }, body })),
    assignJob: (id, body, key) => settle(() => client.POST('/jobs/{id}/assign', { params: { path: { id }, header: keyed(key) }, body })),
    rescheduleJob: (id, body, key) =>
      settle(() => client.POST('/jobs/{id}/reschedule', { params: { path: { id }, header: keyed(key) }, body })),
    stepJob: (id, step, key) => {
      const params = { path: { id }, header: keyed(key) };
      return settle(() =>
        step === 'confirm'
          ? client.POST('/jobs/{id}/confirm', { params })
          : step === 'start'
            ? client.POST('/jobs/{id}/start', { params })
            : client.POST('/jobs/{id}/complete', { params }),
      );
    },
    liveTicket: () => settle(() => client.POST('/live/tickets')),
  };
}

/** The text to show for a failed call. */
export function describe(err: unknown): string {
  if (err instanceof ApiError) return err.body.error;
  if (err instanceof NetworkError) return 'Could not reach the API. Check that `make run` is still running, then retry.';
  return 'Something went wrong.';
}
