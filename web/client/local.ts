// A typed client for the local server's own endpoints (/_local/demo, /_local/token,
// /_local/reset): local only, never deployed, and so not in openapi.yaml. Their document is
// tools/local/console/local-api.yaml, whose types openapi-typescript generates into
// local-schema.ts (`make client`; `make test` fails when it is stale), and the local server's
// tests hold its answers to that document. Same origin, no token:
//
//   const local = createLocalClient();
//   const { data, error } = await local.POST('/_local/token', { body: { sub: 'dana', roles: ['Dispatcher'] } });
import createClient, { type Client } from 'openapi-fetch';

import type { components, paths } from './local-schema';

export type { components as localComponents, paths as localPaths };

/** The demo users and jobs the local server loaded (GET /_local/demo). */
export type Demo = components['schemas']['Demo'];
export type DemoUser = components['schemas']['DemoUser'];
export type DemoJob = components['schemas']['DemoJob'];
/** What POST /_local/token asks for, and what it answers. */
export type TokenRequest = components['schemas']['TokenRequest'];
export type TokenResponse = components['schemas']['TokenResponse'];
/** The body of every error the local endpoints answer. */
export type LocalError = components['schemas']['Error'];

export type LocalClient = Client<paths>;

export interface LocalClientOptions {
  /** Where the local server is: the page's own origin by default. */
  baseUrl?: string;
  /** fetch to use (tests); the global one by default. */
  fetch?: typeof globalThis.fetch;
}

/** createLocalClient returns a client for the local server's endpoints; it sends no token. */
export function createLocalClient({ baseUrl = '', fetch }: LocalClientOptions = {}): LocalClient {
  return createClient<paths>({ baseUrl, fetch, headers: { Accept: 'application/json' } });
}
