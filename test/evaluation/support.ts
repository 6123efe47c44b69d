import type { Context, Unleash } from 'unleash-client';
import type { JsonValue } from '@openfeature/server-sdk';
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

/** What OFREP must answer, from the stock SDK's answer: the variant's payload when it has one, otherwise on/off. */
export function expectedOfrep(sdk: Unleash, flag: string, context: Context): { value: JsonValue; variant: string; cohort: string } {
  const { enabled, variant } = expectedEvaluation(sdk, flag, context);
  const payload = variant.enabled ? variant.payload : undefined;
  const value: JsonValue = !payload
    ? enabled
    : payload.type === 'number'
      ? Number(payload.value)
      : payload.type === 'json'
        ? (JSON.parse(payload.value) as JsonValue)
        : payload.value;
  return { value, variant: variant.enabled ? variant.name : enabled ? 'on' : 'off', cohort: enabled ? 'treatment' : 'control' };
}

/** The toggles the frontend API must return: the flags the stock SDK has on, with its variants, by name. */
export function expectedToggles(sdk: Unleash, flags: string[], context: Context) {
  return flags
    .map((name) => ({ name, ...expectedEvaluation(sdk, name, context) }))
    .filter((e) => e.enabled)
    .map((e) => ({ name: e.name, enabled: true, variant: e.variant, cohort: 'treatment' }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Toggles as served, without impressionData (the SDK answer does not have it), by name. */
export function servedToggles(toggles: Array<Record<string, unknown>>) {
  return toggles.map(({ impressionData: _i, ...t }) => t).sort((a, b) => String(a.name).localeCompare(String(b.name)));
}
