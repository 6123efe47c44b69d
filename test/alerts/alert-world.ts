import type { TestController } from '../support/controller.js';

/**
 * What the alert tests act on: flags with a rollout held at its first step (an hour per step, no
 * approvals), on a policy that leaves a paused rollout for a person or one that resumes it when
 * the alert that paused it resolves.
 */

export const HOLD = 'alert-hold';
export const RESUMING = 'alert-resuming';

export function holdingPolicy(name: string, resumeOnResolve?: boolean): Record<string, unknown> {
  return {
    name,
    steps: [10, 100],
    stepDefaults: { minDuration: '1h', minSamples: 0, maxDuration: '24h', approval: { required: 0 } },
    analysisInterval: '1s',
    gates: [],
    rollback: [],
    ...(resumeOnResolve === undefined ? {} : { alerts: { resumeOnResolve } }),
  };
}

export async function ok(t: TestController, method: string, path: string, body?: unknown, token?: string): Promise<any> {
  const res = await t.api(method, path, body, token);
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function declarePolicies(t: TestController): Promise<void> {
  await ok(t, 'PUT', `/api/admin/policies/${HOLD}`, holdingPolicy(HOLD));
  await ok(t, 'PUT', `/api/admin/policies/${RESUMING}`, holdingPolicy(RESUMING, true));
}

/** A flag off in production and staging, on nobody's strategies. */
export async function flag(t: TestController, name: string): Promise<void> {
  const off = { enabled: false, strategies: [] };
  await ok(t, 'PUT', `/api/admin/flags/${name}`, { environments: { production: off, staging: off } });
}

/** A flag with a rollout running at 10 % in `environment`; returns the rollout's id. */
export async function rolling(t: TestController, name: string, policy = HOLD, environment = 'production'): Promise<string> {
  await flag(t, name);
  const started = await ok(t, 'POST', '/api/admin/rollouts', { flag: name, environment, policy });
  if (started.state !== 'running') throw new Error(`rollout of ${name} is ${started.state}, not running`);
  return started.id;
}

export async function rolloutOf(t: TestController, id: string): Promise<any> {
  return ok(t, 'GET', `/api/admin/rollouts/${id}`);
}

/** Every audit event so far. */
export async function auditEvents(t: TestController): Promise<any[]> {
  const events: any[] = [];
  for (let from = 1; ; ) {
    const page = (await ok(t, 'GET', `/api/admin/audit?from=${from}&limit=1000`)).events;
    events.push(...page);
    if (page.length < 1000) return events;
    from += 1000;
  }
}

/** Posts a delivery with an alert token; the answer's status and body. */
export async function deliver(t: TestController, path: string, body: unknown, token: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${t.url}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
