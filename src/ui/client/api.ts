import { CSRF_HEADER } from '../../people/browser-contract.js';
import type { Wording } from '../../rollouts/reason-wording.js';

/**
 * Talking to the admin API as whoever signed in, one of two ways:
 * - a person signed in with their organisation (OpenID Connect): the browser sends the session
 *   cookie by itself (the page never sees it), and every write carries the session's CSRF token,
 *   which the page learned from GET /api/admin/me and keeps in memory only;
 * - an admin token pasted at sign-in: it lives in sessionStorage, gone when the tab closes, and is
 *   sent in Authorization (which the API then judges alone, whatever cookie comes along).
 * The API checks the role of every call anyway; the dashboard only hides what the role cannot do.
 */

const TOKEN_KEY = 'rollout-controller.token';

export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}
export function storeToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}
export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** The session's CSRF token, while a person is signed in with a session (the one place writes get it from), and whose it is. */
let csrfToken: string | undefined;
let signedInAs: string | undefined;
export function useSession(me: { id: string; csrfToken?: string } | undefined): void {
  csrfToken = me?.csrfToken;
  signedInAs = me?.id;
}

/** Methods that change nothing: the only ones sent without the CSRF token. */
const SAFE_METHODS = new Set(['GET', 'HEAD']);

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorId: string,
    message: string,
    readonly details?: {
      tokenKind?: string;
      issues?: Array<{ path: string; message: string }>;
      unlisted?: number;
      violations?: Array<{ text: string; textWording?: Wording }>;
    },
  ) {
    super(message);
  }
}

/** Called on any 401: the token was revoked, or the session ended, so the dashboard goes back to sign-in. */
let onUnauthorized: () => void = () => {};
export function whenUnauthorized(listener: () => void): void {
  onUnauthorized = listener;
}

/** Difference between the controller's clock and ours, learned from X-Server-Time. */
let clockOffsetMs = 0;
export function serverNow(): number {
  return Date.now() + clockOffsetMs;
}

async function failure(res: Response, signedIn: boolean): Promise<ApiError> {
  const body = (await res.json().catch(() => ({}))) as { error?: string; message?: string; details?: ApiError['details'] };
  // A token or cookie being tried at sign-in is not yet anyone's: its 401 is the sign-in form's to show.
  if (res.status === 401 && signedIn) onUnauthorized();
  return new ApiError(res.status, body.error ?? 'http_error', body.message ?? `${res.status} ${res.statusText}`, body.details);
}

export interface RequestOptions {
  body?: unknown;
  etag?: string;
  /** The version this write was based on (the ETag of the GET): a change made meanwhile is refused with 412. */
  ifMatch?: string;
  /** A token being tried at sign-in (instead of the stored one). */
  token?: string;
  /** Finding out who we are at sign-in: a 401 is not a signed-in person being turned away. */
  probe?: boolean;
  /** Sent again with a fresh CSRF token (at most once). */
  retried?: boolean;
}

export async function request(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  const token = options.token ?? storedToken();
  // Without a token the session cookie speaks (an empty Authorization header would be judged instead of it).
  if (token) headers.Authorization = `Bearer ${token}`;
  else if (csrfToken && !SAFE_METHODS.has(method)) headers[CSRF_HEADER] = csrfToken;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  if (options.etag) headers['If-None-Match'] = options.etag;
  if (options.ifMatch) headers['If-Match'] = options.ifMatch;
  const res = await fetch(path, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body), cache: 'no-store' });
  const serverTime = Number(res.headers.get('X-Server-Time'));
  if (serverTime > 0) clockOffsetMs = serverTime - Date.now();
  if (res.status === 403 && !token && !options.retried && (await errorIdOf(res)) === 'csrf_token_invalid' && (await freshCsrfToken())) {
    return request(method, path, { ...options, retried: true });
  }
  if (!res.ok && res.status !== 304) throw await failure(res, options.token === undefined && !options.probe);
  return res;
}

async function errorIdOf(res: Response): Promise<string | undefined> {
  return (
    (await res
      .clone()
      .json()
      .catch(() => ({}))) as { error?: string }
  ).error;
}

/**
 * Signing in again in another tab replaces the session cookie, and with it the CSRF token this tab
 * learned: a write refused for that takes the new token and is sent again. Someone else signed in
 * there means this page is no longer theirs: it starts over.
 */
async function freshCsrfToken(): Promise<boolean> {
  const me = (await (await fetch('/api/admin/me', { cache: 'no-store' })).json().catch(() => ({}))) as { id?: string; csrfToken?: string };
  if (!me.csrfToken) return false;
  if (me.id !== signedInAs) {
    location.reload();
    return false;
  }
  csrfToken = me.csrfToken;
  return true;
}

export async function getJson<T>(path: string, options: Pick<RequestOptions, 'token' | 'probe'> = {}): Promise<T> {
  return (await (await request('GET', path, options)).json()) as T;
}

/** Ends the person's session on the controller (the answer clears its cookie). */
export async function endSession(): Promise<void> {
  await request('POST', '/auth/logout', { probe: true });
  csrfToken = undefined;
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  return sendJson<T>('POST', path, body);
}

/** A write (POST, PUT, DELETE) and its JSON answer, if any. */
export async function sendJson<T>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, ifMatch?: string): Promise<T> {
  const res = await request(method, path, { body, ifMatch });
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/**
 * Live updates by polling every two seconds with If-None-Match. Chosen over a server-sent event
 * stream because it works unchanged behind any load balancer and across replicas (a rollout
 * changed by the leader on another replica shows up just the same), survives restarts without
 * reconnect logic, and costs a bodiless 304 when nothing changed. Polling pauses while the tab is
 * hidden and catches up at once when it is shown again.
 */
export const POLL_MS = 2_000;

export interface Poller {
  /** Fetch now (after an action), rather than at the next tick. */
  refresh(): void;
  stop(): void;
}

export interface PollHandlers<T> {
  /** A new answer (not called again while the answer stays the same). */
  onData(data: T): void;
  /** Any successful poll, changed or not. */
  onOk?(): void;
  onError(err: unknown): void;
}

export function poll<T>(path: string, handlers: PollHandlers<T>, everyMs = POLL_MS): Poller {
  let etag: string | undefined;
  let lastText: string | undefined;
  let timer: number | undefined;
  let stopped = false;
  let running = false;
  let again = false;

  const tick = async () => {
    window.clearTimeout(timer);
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      const res = await request('GET', path, { etag });
      if (res.status !== 304) {
        etag = res.headers.get('ETag') ?? undefined;
        const text = await res.text();
        // Routes without an ETag answer in full each time: an identical answer is not drawn again.
        if (!stopped && text !== lastText) handlers.onData(JSON.parse(text) as T);
        lastText = text;
      }
      if (!stopped) handlers.onOk?.();
    } catch (err) {
      if (!stopped) handlers.onError(err);
    } finally {
      running = false;
      if (again) {
        again = false;
        void tick();
      } else if (!stopped && !document.hidden) timer = window.setTimeout(tick, everyMs);
    }
  };
  const onVisibility = () => {
    if (!document.hidden) void tick();
  };
  document.addEventListener('visibilitychange', onVisibility);
  void tick();
  return {
    refresh: () => void tick(),
    stop() {
      stopped = true;
      window.clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    },
  };
}
