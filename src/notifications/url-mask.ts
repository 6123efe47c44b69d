/**
 * Webhook URLs often carry their own credential: Slack's and Feishu's in the path, DingTalk's
 * access_token, WeCom's key and a Teams workflow's sig in the query. These helpers show where a
 * webhook goes without that part. Dependency-free: the dashboard uses them too.
 */

/** `https://hooks.example.com/…`: the origin only, for readers who may not manage webhooks (and for logs). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return u.pathname === '/' && !u.search ? u.origin : `${u.origin}/…`;
  } catch {
    return '…';
  }
}

const SHOWN_CHARS = 4;
/** Path segments this long are ids or keys, not words: only their start is shown. */
const LONG_SEGMENT = 16;

const masked = (value: string) => (value.length <= SHOWN_CHARS ? '…' : `${value.slice(0, SHOWN_CHARS)}…`);

/**
 * `https://oapi.dingtalk.com/robot/send?access_token=a1b2…`: the host and the shape of the path,
 * with every query value, every long path segment and any user or password cut to a few characters
 * (enough to tell two robots apart, not to use one).
 */
export function maskUrl(url: string): string {
  // Already cut to its origin by the API (for readers who may not manage webhooks).
  if (url.endsWith('/…')) return url;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return '…';
  }
  const path = u.pathname
    .split('/')
    .map((segment) => (segment.length >= LONG_SEGMENT ? masked(segment) : segment))
    .join('/');
  const query = [...u.searchParams].map(([key, value]) => `${key}=${masked(value)}`).join('&');
  return `${u.protocol}//${u.username || u.password ? '…@' : ''}${u.host}${path}${query ? `?${query}` : ''}`;
}
