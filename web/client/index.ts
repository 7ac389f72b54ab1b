// A typed client for the lifecycle API, for frontends: the types are generated from
// openapi.yaml by openapi-typescript into schema.ts (`make client`; `make test` fails when it
// is stale), and openapi-fetch turns them into checked calls:
//
//   const api = createLifecycleClient({ token: () => session.token });
//   const { data, error } = await api.POST('/interviews/{id}/pause', {
//     params: { path: { id }, header: { 'Idempotency-Key': crypto.randomUUID() } },
//   });
//
// A path, parameter or body the document does not have is a type error, and `data` and
// `error` are typed by the route's responses. live.ts holds the types of the live channel's
// messages, generated from schemas/live-message.json; local.ts is the client of the local
// server's own endpoints (local only, typed from tools/local/console/local-api.yaml).
import createClient, { type Client } from 'openapi-fetch';

import type { components, operations, paths } from './schema';

export type { components, operations, paths };

export type Session = components['schemas']['Session'];
export type NewSession = components['schemas']['NewSession'];
export type SessionStatus = components['schemas']['SessionStatus'];
export type SessionPage = components['schemas']['SessionPage'];
export type CancelInterviewResponse = components['schemas']['CancelInterviewResponse'];
export type Job = components['schemas']['Job'];
export type JobStatus = components['schemas']['JobStatus'];
export type Assignment = components['schemas']['Assignment'];
/** A single-use ticket for the live WebSocket (docs/live.md). */
export type LiveTicket = components['schemas']['LiveTicket'];
/** A message of the live WebSocket; its detail holds the fields listed for its type (docs/live.md). */
export type LiveMessage = components['schemas']['LiveMessage'];
/**
 * The live messages' types with their details (LiveEvent, LiveDetail, InterviewPausedDetail,
 * …), generated from schemas/live-message.json into live.ts (`make client`).
 */
export type * from './live';
/** The body of every error a function answers with. */
export type ErrorBody = components['schemas']['Error'];
/** An answer API Gateway gives itself (unknown route, body over 10 MB, rejected token). */
export type GatewayError = components['schemas']['GatewayError'];

export type LifecycleClient = Client<paths>;

export interface ClientOptions {
  /** Where the API is: '/api' on the frontends' own origin by default. */
  baseUrl?: string;
  /** The bearer token to send, read at each call (it may be refreshed meanwhile). */
  token: () => string;
  /** fetch to use (tests, server-side rendering); the global one by default. */
  fetch?: typeof globalThis.fetch;
}

/** createLifecycleClient returns a client whose every call carries the caller's token. */
export function createLifecycleClient({ baseUrl = '/api', token, fetch }: ClientOptions): LifecycleClient {
  const client = createClient<paths>({ baseUrl, fetch, headers: { Accept: 'application/json' } });
  client.use({
    onRequest({ request }) {
      request.headers.set('Authorization', `Bearer ${token()}`);
      return request;
    },
  });
  return client;
}
