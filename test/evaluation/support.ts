import type { Context, Unleash } from 'unleash-client';
import { APP_NAME } from '../sdk/sdk-helpers.js';
import { startTestController, type TestController } from '../support/controller.js';
import { buildFixture, type ClientPayload } from '../sdk/fixtures.js';

/** A controller on real Redis with the 82-flag SDK fixture imported into production, and one token of each kind. */
export interface EvaluationController {
  t: TestController;
  fixture: ClientPayload;
  clientSecret: string;
  frontendSecret: string;
}

export async function startWithFixture(env: Record<string, string> = {}, fixture: ClientPayload = buildFixture()): Promise<EvaluationController> {
  const t = await startTestController({ env: { EXPOSURE_FLUSH_MS: '100', ...env } });
  const imported = await t.api('POST', '/api/admin/environments/production/import', fixture);
  if (imported.status !== 200) throw new Error(`import failed: ${imported.status} ${JSON.stringify(imported.body)}`);
  const [clientSecret, frontendSecret] = await Promise.all([
    t.token({ kind: 'client', environment: 'production' }),
    t.token({ kind: 'frontend', environment: 'production' }),
  ]);
  return { t, fixture, clientSecret, frontendSecret };
}

export async function post(t: TestController, route: string, body: unknown, secret: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${t.url}${route}`, {
    method: 'POST',
    headers: { Authorization: secret, 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

/** A context as JSON sends it: currentTime as an ISO string. */
export function wireContext(context: Context): Record<string, unknown> {
  const { currentTime, ...rest } = context;
  return { ...rest, ...(currentTime ? { currentTime: new Date(currentTime).toISOString() } : {}) };
}

/** The context a stock SDK configured like the reference (appName, environment production) evaluates. */
export function asReferenceSees(context: Context): Context {
  return { appName: APP_NAME, environment: 'production', ...context };
}

/** What the stock SDK answers for one flag: on/off from isEnabled, the variant from getVariant. */
export function expectedEvaluation(sdk: Unleash, flag: string, context: Context) {
  const { payload, ...variant } = sdk.getVariant(flag, context);
  return { enabled: sdk.isEnabled(flag, context), variant: { ...variant, ...(payload ? { payload } : {}) } };
}
