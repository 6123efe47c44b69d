import type { Store } from '../store/port.js';
import { LimitError } from '../errors/limit-error.js';

/** Registrations are counted per environment, day and application name, and kept a week. */
const REGISTRATION_TTL_SECONDS = 7 * 24 * 3600;
const DAY_MS = 24 * 3600 * 1000;

/**
 * What SDKs announce (POST /api/client/register), counted per environment and day by application
 * name. Names are the caller's choice, so a token could otherwise add a new one to the store with
 * every request: each replica records at most `appsPerEnvironment` distinct names per environment
 * and day, and refuses new ones past that (429 until the next day, UTC). Names seen are remembered
 * for the current day only.
 */
export class Registrations {
  private day = '';
  private names = new Map<string, Set<string>>();

  constructor(
    private readonly store: Store,
    private readonly appsPerEnvironment: number,
  ) {}

  async record(env: string, appName: string, now: number): Promise<void> {
    const day = new Date(now).toISOString().slice(0, 10);
    if (day !== this.day) {
      this.day = day;
      this.names.clear();
    }
    let seen = this.names.get(env);
    if (!seen) this.names.set(env, (seen = new Set()));
    if (!seen.has(appName)) {
      if (seen.size >= this.appsPerEnvironment) {
        const retryAfterSeconds = Math.max(1, Math.ceil((DAY_MS - (now % DAY_MS)) / 1000));
        throw new LimitError(
          'rate-limited',
          'too_many_applications',
          `${this.appsPerEnvironment} applications have already registered in ${env} today (CLIENT_APPS_PER_ENVIRONMENT); new names are refused until 00:00 UTC`,
          'CLIENT_APPS_PER_ENVIRONMENT',
          retryAfterSeconds,
        );
      }
      seen.add(appName);
    }
    await this.store.incrementCounters(`registrations:${env}:${day}`, { [appName]: 1 }, REGISTRATION_TTL_SECONDS);
  }
}
