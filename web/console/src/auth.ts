// The signed-in caller: a dev token (from the local server, or pasted), kept for the tab's
// life in sessionStorage. The console reads the token's claims only to show who is signed
// in and which sections apply; the API verifies the token on every call.
import { type Demo, createLocalClient } from '../../client/local';

export interface Caller {
  token: string;
  sub: string;
  roles: string[];
  /** Expiry, in ms since the epoch (0 when the token has none). */
  expiresAt: number;
}

const storageKey = 'lifecycle.console.token';

function decodePart(part: string): unknown {
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

/** parseToken reads a JWT's claims, or returns an error message for a person. */
export function parseToken(raw: string): Caller | string {
  const token = raw.trim().replace(/^Bearer\s+/i, '');
  const parts = token.split('.');
  if (parts.length !== 3) return 'That is not a token: a JWT has three parts separated by dots.';
  let claims: Record<string, unknown>;
  try {
    claims = decodePart(parts[1]) as Record<string, unknown>;
  } catch {
    return 'That token cannot be read.';
  }
  if (typeof claims.sub !== 'string' || claims.sub === '') return 'That token names no user (no sub claim).';
  const roles = [claims.roles, claims['cognito:groups']]
    .flatMap((r) => (Array.isArray(r) ? r : typeof r === 'string' ? r.split(/[\s,]+/) : []))
    .filter((r): r is string => typeof r === 'string' && r !== '');
  const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : 0;
  return { token, sub: claims.sub, roles: [...new Set(roles)], expiresAt: exp };
}

export function isExpired(c: Caller, now = Date.now()): boolean {
  return c.expiresAt !== 0 && c.expiresAt <= now;
}

export function canManageJobs(c: Caller): boolean {
  return c.roles.includes('Dispatcher') || c.roles.includes('Admin');
}

/** A technician may open a job they are booked on (the API decides which). */
export function isTechnician(c: Caller): boolean {
  return c.roles.includes('Technician');
}

export function saved(): Caller | null {
  const raw = sessionStorage.getItem(storageKey);
  if (!raw) return null;
  const c = parseToken(raw);
  if (typeof c === 'string' || isExpired(c)) {
    sessionStorage.removeItem(storageKey);
    return null;
  }
  return c;
}

export function save(c: Caller | null): void {
  if (c) sessionStorage.setItem(storageKey, c.token);
  else sessionStorage.removeItem(storageKey);
}

export type { Demo };

// The local server's own endpoints, through the client typed from their document
// (tools/local/console/local-api.yaml): same origin, no token.
const local = createLocalClient();

/** The demo users and jobs the local server loaded (local only). */
export async function demo(): Promise<Demo> {
  const { data, response } = await local.GET('/_local/demo');
  if (!data) throw new Error(`HTTP ${response.status}`);
  return data;
}

/** A dev token for a demo user, signed by the local server (local only). */
export async function devToken(sub: string, roles: string[]): Promise<string> {
  const { data, error, response } = await local.POST('/_local/token', { body: { sub, roles } });
  if (!data) throw new Error(error?.error ?? `HTTP ${response.status}`);
  return data.token;
}
