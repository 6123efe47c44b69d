import { CliError, EXIT, exitCodeForStatus } from './exit-codes.js';

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
}

const TIMEOUT_MS = 15_000;

/**
 * The admin API over HTTP. The token goes only into the Authorization header: it is never part of
 * an error message, a log line or any output, whatever fails.
 */
export class AdminClient {
  private readonly base: string;

  constructor(
    baseUrl: string,
    private readonly token: string,
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  /**
   * Sends a request; any status comes back (only a network failure throws). `timeoutMs`: for the
   * few requests that take long on purpose (a drill waits for SDKs).
   */
  async send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, timeoutMs = TIMEOUT_MS): Promise<ApiResponse> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: { Authorization: this.token, Accept: 'application/json', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000}s` : (cause?.code ?? cause?.message ?? (err as Error).message);
      throw new CliError(`cannot reach the controller at ${this.base}: ${why}`, EXIT.unreachable);
    }
    return { status: res.status, headers: res.headers, text: await res.text() };
  }

  /** Sends a request and returns the parsed JSON body, or throws a CliError for any non-2xx status. */
  async call<T = unknown>(method: string, path: string, body?: unknown, headers?: Record<string, string>, timeoutMs?: number): Promise<T> {
    const res = await this.send(method, path, body, headers, timeoutMs);
    if (res.status >= 400) throw apiError(method, path, res);
    return (res.text ? JSON.parse(res.text) : undefined) as T;
  }

  /** A GET that treats 404 as "not there" rather than an error; returns the body and its ETag. */
  async find<T>(path: string): Promise<{ value: T; etag: string | null } | null> {
    const res = await this.send('GET', path);
    if (res.status === 404) return null;
    if (res.status >= 400) throw apiError('GET', path, res);
    return { value: JSON.parse(res.text) as T, etag: res.headers.get('etag') };
  }

  /** A GET of a text document (reports). */
  async text(path: string): Promise<ApiResponse> {
    const res = await this.send('GET', path, undefined, { Accept: '*/*' });
    if (res.status >= 400) throw apiError('GET', path, res);
    return res;
  }
}

/** The controller's error body ({error, message, details}) as one line, with the exit code its status means. */
export function apiError(method: string, path: string, res: ApiResponse): CliError {
  let message = res.text.slice(0, 300);
  let errorId = '';
  try {
    const body = JSON.parse(res.text) as { error?: string; message?: string };
    message = body.message ?? message;
    errorId = body.error ?? '';
  } catch {
    // Not JSON (a proxy's page): the start of the text says enough.
  }
  const what = res.status === 401 ? 'the token was refused' : res.status === 403 ? 'not allowed' : `${method} ${path} failed`;
  return new CliError(`${what}: ${message} (HTTP ${res.status}${errorId ? ` ${errorId}` : ''})`, exitCodeForStatus(res.status), [], res.status);
}
