import { Redis } from 'ioredis';
import type { ControllerProcess } from '../support/controller-process.js';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `probe` until it returns something other than undefined; throws with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * Reads who holds a lease straight from Redis (the hash the store's Lua scripts keep at
 * `{prefix}:lease:<name>`), without taking or renewing it.
 */
export class LeaseProbe {
  private readonly redis: Redis;

  constructor(
    url: string,
    private readonly prefix: string,
  ) {
    this.redis = new Redis(url, { protocol: 2, maxRetriesPerRequest: 1 });
    this.redis.on('error', () => {});
  }

  async holder(lease: string): Promise<{ holder: string; token: number } | null> {
    const h = await this.redis.hgetall(`{${this.prefix}}:lease:${lease}`);
    return h.holder ? { holder: h.holder, token: Number(h.token) } : null;
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/** The controller's structured (pino JSON) log lines with this message. */
export function logLines(proc: ControllerProcess, msg: string): Array<Record<string, unknown>> {
  return proc
    .output()
    .split('\n')
    .flatMap((line) => {
      if (!line.startsWith('{')) return [];
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        return parsed.msg === msg ? [parsed] : [];
      } catch {
        return [];
      }
    });
}

/** JSON over fetch against one controller process, with a token. */
export async function api(base: string, token: string, method: string, route: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}${route}`, {
    method,
    headers: { Authorization: token, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // keep the text
  }
  return { status: res.status, body: parsed };
}
