import type { TestController } from './controller.js';

/**
 * A policy that runs to completion in well under a second on a controller started with FAST_ENV
 * (test/rollouts/scenario-helpers.ts): two steps, no gates, no samples needed, and no approval
 * (approval.required 0 explicitly, so the tests do not depend on the approval defaults).
 */
export function quickPolicy(name: string, steps: number[] = [50, 100]): Record<string, unknown> {
  return {
    name,
    description: `finishes at once (${name})`,
    steps,
    stepDefaults: { minDuration: '100ms', minSamples: 0, maxDuration: '10s', approval: { required: 0 } },
    analysisInterval: '100ms',
    gates: [],
    rollback: [],
  };
}

/** Starts a rollout of `flag` and waits until it is completed; returns the rollout. */
export async function runToCompletion(t: TestController, flag: string, environment: string, policy: string, timeoutMs = 10_000): Promise<any> {
  const started = await t.api('POST', '/api/admin/rollouts', { flag, environment, policy });
  if (started.status !== 201) throw new Error(`rollout start: ${started.status} ${JSON.stringify(started.body)}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await t.api('GET', `/api/admin/rollouts/${started.body.id}`);
    if (body.state === 'completed') return body;
    if (Date.now() > deadline)
      throw new Error(
        `rollout ${started.body.id} not completed within ${timeoutMs} ms: ${body.state} at ${body.percentage}% (${body.stepVerdict?.reason ?? ''})`,
      );
    await new Promise((r) => setTimeout(r, 25));
  }
}
