/**
 * Talking to the admin API with the signed-in token. The token lives in sessionStorage: it is gone
 * when the tab closes, and the page itself holds no secret of its own. The API checks the role of
 * every call anyway; the dashboard only hides what the role cannot do.
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

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorId: string,
    message: string,
  ) {
    super(message);
  }
}

/** Called on any 401: the token was revoked or mistyped, so the dashboard goes back to sign-in. */
let onUnauthorized: () => void = () => {};
export function whenUnauthorized(listener: () => void): void {
  onUnauthorized = listener;
}

/** Difference between the controller's clock and ours, learned from X-Server-Time. */
let clockOffsetMs = 0;
export function serverNow(): number {
  return Date.now() + clockOffsetMs;
}

async function failure(res: Response, sessionToken: boolean): Promise<ApiError> {
  const body = (await res.json().catch(() => ({}))) as { error?: string; message?: string };
  // A token being tried at sign-in is not the session's: its 401 is the sign-in form's to show.
  if (res.status === 401 && sessionToken) onUnauthorized();
  return new ApiError(res.status, body.error ?? 'http_error', body.message ?? `${res.status} ${res.statusText}`);
}

export async function request(method: string, path: string, options: { body?: unknown; etag?: string; token?: string } = {}): Promise<Response> {
  const headers: Record<string, string> = { Authorization: `Bearer ${options.token ?? storedToken() ?? ''}` };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  if (options.etag) headers['If-None-Match'] = options.etag;
  const res = await fetch(path, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body), cache: 'no-store' });
  const serverTime = Number(res.headers.get('X-Server-Time'));
  if (serverTime > 0) clockOffsetMs = serverTime - Date.now();
  if (!res.ok && res.status !== 304) throw await failure(res, options.token === undefined);
  return res;
}

export async function getJson<T>(path: string, token?: string): Promise<T> {
  return (await (await request('GET', path, { token })).json()) as T;
}

export async function postJson<T>(path: string, body: unknown): Promise<T> {
  return sendJson<T>('POST', path, body);
}

/** A write (POST, PUT, DELETE) and its JSON answer, if any. */
export async function sendJson<T>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const res = await request(method, path, { body });
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
