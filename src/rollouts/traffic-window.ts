/**
 * When a step's traffic starts to count: the one rule, pure, for the controller (measure-traffic.ts)
 * and its documentation (docs/concepts.md, "When traffic counts").
 *
 * SDKs fetch flags on their own timers (15 s by default for unleash-client; at once over a stream),
 * so for a while after a step starts some applications still evaluate the flag at the previous
 * percentage, and users they report then are in the wrong cohort for the new step. Counting them
 * would show a sample-ratio mismatch that is not there. So counting waits until every SDK instance
 * that was fetching flags before the step has fetched a state that holds it; every replica records
 * which flag-state revision it served to which instance, and when (src/serving/sdk-fetches.ts).
 *
 *  - An instance seen fetching an older state than the step's (from FETCH_LOOKBACK_MS before the
 *    step on) is awaited: it evaluates the flag with what it last fetched.
 *  - It is done at its first fetch of a state at or after the step's revision. An instance that
 *    already held it (a resumed step, whose percentage did not change) is not awaited at all.
 *  - One that does not come back (stopped, scaled down, cut off) is awaited until twice its fetch
 *    interval (as seen before the step) plus FETCH_GRACE_MS after its last fetch, and never longer
 *    than MAX_FETCH_WAIT_MS after the step started. Then counting starts without it.
 *  - No instance fetched before the step (only server-side evaluation: the frontend API and OFREP
 *    always answer with the current state): traffic counts from the step's start.
 * Counting starts when the last awaited instance is done (or given up); until then the traffic
 * checks wait and say for what.
 */

/** Instances that fetched flags this long before a step are awaited. */
export const FETCH_LOOKBACK_MS = 5 * 60_000;
/** The longest counting waits for any instance. */
export const MAX_FETCH_WAIT_MS = 2 * 60_000;
/** Slack on an instance's own fetch interval before it is given up. */
export const FETCH_GRACE_MS = 5_000;

/**
 * One fetch of flag state by one SDK instance: the revision (change-feed position) of the state it
 * got, and when, at the latest (ms: fetches are recorded in short buckets, and this is the bucket's end).
 */
export interface SdkFetch {
  instance: string;
  revision: number;
  at: number;
}

export type TrafficWindow =
  /** Counting from `since` (ms); `instances`: how many were awaited, `gaveUp`: how many never fetched the step. */
  | { kind: 'counting'; since: number; instances: number; gaveUp: number }
  /** Waiting for SDK instances to fetch the step, at most until `until` (ms). */
  | { kind: 'waiting'; fetched: number; instances: number; until: number };

/**
 * Where counting stands at `now` for a step that started at `stepStart`, whose flag state is
 * `revision` (undefined while this replica does not serve the step itself yet: then nothing is
 * known of who has it, and only the longest wait applies), given the fetches recorded from
 * FETCH_LOOKBACK_MS before the step on.
 */
export function trafficWindow(stepStart: number, revision: number | undefined, fetches: readonly SdkFetch[], now: number): TrafficWindow {
  const latest = stepStart + MAX_FETCH_WAIT_MS;
  if (revision === undefined) {
    return now >= latest ? { kind: 'counting', since: latest, instances: 0, gaveUp: 0 } : { kind: 'waiting', fetched: 0, instances: 0, until: latest };
  }
  // Awaited: instances seen holding an older state since the lookback began. Done: at their first fetch of a newer one.
  const before = new Map<string, number[]>();
  const fetchedAt = new Map<string, number>();
  for (const f of fetches) {
    if (f.revision < revision) {
      if (f.at < stepStart - FETCH_LOOKBACK_MS) continue;
      let times = before.get(f.instance);
      if (!times) before.set(f.instance, (times = []));
      times.push(f.at);
    } else {
      // A fetch read now happened by now, whatever the end of its bucket.
      const at = Math.max(stepStart, Math.min(f.at, now));
      fetchedAt.set(f.instance, Math.min(fetchedAt.get(f.instance) ?? Infinity, at));
    }
  }
  let since = stepStart;
  let fetched = 0;
  let gaveUp = 0;
  let until = stepStart;
  for (const [instance, times] of before) {
    const deadline = deadlineOf(times, stepStart);
    const done = fetchedAt.get(instance);
    if (done !== undefined && done <= deadline) {
      fetched++;
      since = Math.max(since, done);
    } else if (now >= deadline) {
      gaveUp++;
      since = Math.max(since, deadline);
    } else until = Math.max(until, deadline);
  }
  const instances = before.size;
  return fetched + gaveUp === instances ? { kind: 'counting', since, instances, gaveUp } : { kind: 'waiting', fetched, instances, until };
}

/** How long an instance is awaited: twice its interval between fetches of the old state, plus grace, from its last one. */
function deadlineOf(times: number[], stepStart: number): number {
  const sorted = [...new Set(times)].sort((a, b) => a - b);
  const last = sorted[sorted.length - 1]!;
  const latest = stepStart + MAX_FETCH_WAIT_MS;
  if (sorted.length < 2) return latest;
  const interval = (last - sorted[0]!) / (sorted.length - 1);
  return Math.min(latest, Math.max(stepStart, last + 2 * interval) + FETCH_GRACE_MS);
}
