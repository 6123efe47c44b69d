import type * as Sdk from '../../src/sdk/index.js';
import type { UserCalls } from './two-apps-plan.js';

/**
 * One application of the two-applications scenario (two-apps-scenario.test.ts), a process of its
 * own: the SDK helper as published (`rollout-controller/sdk`, the built package entry) over a stock
 * unleash-client. Told a step's calls by the test, it waits until its SDK serves that step's
 * percentage, makes every call through the helper (the flag's real evaluation decides each user's
 * cohort; a call fails when the plan says so for that cohort), posts the outcomes once, and says
 * how many calls got the feature.
 */

export type ToApp = { type: 'phase'; percentage: number; calls: UserCalls[] } | { type: 'close' };
export type FromApp =
  | { type: 'ready'; source: string }
  | { type: 'done'; percentage: number; on: number; calls: number; sentRequests: number; droppedRequests: number; errors: string[] }
  | { type: 'failed'; error: string };

// Not a literal, so the type check reads the helper's types from its source, not from dist/.
const SDK_ENTRY = 'rollout-controller/sdk';
const { createRolloutClient } = (await import(SDK_ENTRY)) as typeof Sdk;

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}
const flag = env('APP_FLAG');
const send = (message: FromApp) => process.send!(message);
const errors: string[] = [];
const guard = createRolloutClient({
  url: env('APP_CONTROLLER_URL'),
  appName: env('APP_NAME'),
  token: env('APP_TOKEN'),
  backupPath: env('APP_BACKUP_DIR'),
  refreshIntervalMs: 50,
  flushIntervalMs: 3_600_000, // posted when the step's calls are done
  env: {},
  onError: (e) => errors.push(e.message),
});

/** The percentage of the rollout's flexibleRollout strategy, as this SDK holds it. */
function servedPercentage(): number | undefined {
  const strategy = guard.unleash.getFeatureToggleDefinition(flag)?.strategies?.find((s) => s.name === 'flexibleRollout');
  return strategy ? Number(strategy.parameters?.rollout) : undefined;
}

async function phase(percentage: number, calls: UserCalls[]): Promise<FromApp> {
  const deadline = Date.now() + 10_000;
  while (servedPercentage() !== percentage) {
    if (Date.now() > deadline) return { type: 'failed', error: `the SDK still serves ${servedPercentage()}%, not ${percentage}%` };
    await new Promise((r) => setTimeout(r, 10));
  }
  let on = 0;
  let made = 0;
  for (const [userId, n, failIfOn, failIfOff] of calls) {
    for (let k = 0; k < n; k++) {
      made++;
      try {
        guard.track(flag, { userId }, (enabled) => {
          if (enabled) on++;
          if (k < (enabled ? failIfOn : failIfOff)) throw new Error('the request failed');
        });
      } catch {}
    }
  }
  await guard.flush();
  const stats = guard.stats();
  return { type: 'done', percentage, on, calls: made, sentRequests: stats.sentRequests, droppedRequests: stats.droppedRequests, errors: errors.splice(0) };
}

process.on('message', (message: ToApp) => {
  if (message.type === 'close') {
    guard.close().finally(() => process.exit(0));
    return;
  }
  phase(message.percentage, message.calls).then(send, (err: unknown) => send({ type: 'failed', error: String(err) }));
});
send({ type: 'ready', source: await guard.ready(10_000) });
