import { z } from 'zod';
import type { Context } from 'unleash-client';

/**
 * The evaluation context as browsers and OpenFeature apps send it, validated at the edge. Unleash's
 * standard fields sit at the top; anything else is a custom property (as Unleash's frontend API
 * does with unknown top-level fields). Values are bounded so that one request cannot make the
 * engine hash or match megabytes.
 */

const MAX_VALUE_LENGTH = 1_000;
const MAX_PROPERTIES = 100;
const MAX_PROPERTY_NAME_LENGTH = 200;

const scalar = z.union([z.string().max(MAX_VALUE_LENGTH), z.number(), z.boolean()], {
  error: 'expected a string, number or boolean (context values cannot be objects or lists)',
});
const text = z.union([z.string().max(MAX_VALUE_LENGTH), z.number()], { error: 'expected a string' }).transform(String);
const currentTime = z.union([z.string().max(100), z.number()], { error: 'expected an ISO-8601 date-time or epoch milliseconds' }).transform((value, ctx) => {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) ctx.addIssue({ code: 'custom', message: 'expected an ISO-8601 date-time or epoch milliseconds' });
  return date;
});

const STANDARD_FIELDS = ['userId', 'sessionId', 'remoteAddress', 'environment', 'appName'] as const;

/** The context without a schema name, so that its fields become query parameters in the API document. */
export const contextFieldsSchema = z
  .object({
    userId: text.optional(),
    sessionId: text.optional(),
    remoteAddress: text.optional(),
    environment: text.optional(),
    appName: text.optional(),
    currentTime: currentTime.optional(),
    properties: z.record(z.string().max(MAX_PROPERTY_NAME_LENGTH), scalar.nullable()).optional(),
  })
  .catchall(scalar.nullable())
  .superRefine((ctx, issues) => {
    const custom = Object.keys(ctx).length + Object.keys(ctx.properties ?? {}).length;
    if (custom > MAX_PROPERTIES) issues.addIssue({ code: 'custom', message: `at most ${MAX_PROPERTIES} fields`, path: [] });
  });
export const contextSchema = contextFieldsSchema.meta({ id: 'EvaluationContext' });
export type ContextInput = z.input<typeof contextSchema>;

/**
 * Turns a validated context into the SDK's Context: standard fields stay at the top, custom fields
 * (top-level or under `properties`, which wins) become properties; an empty standard field counts
 * as absent, as in Unleash's frontend API.
 */
export function toUnleashContext(input: z.output<typeof contextSchema>): Context {
  const { properties, currentTime: time, ...rest } = input;
  const context: Context = {};
  const custom: Record<string, string> = {};
  for (const [key, value] of Object.entries(rest)) {
    if (value === undefined || value === null) continue;
    if (!(STANDARD_FIELDS as readonly string[]).includes(key)) custom[key] = String(value);
    else if (value !== '') context[key] = String(value);
  }
  for (const [key, value] of Object.entries(properties ?? {})) {
    if (value !== undefined && value !== null) custom[key] = String(value);
  }
  if (time) context.currentTime = time;
  if (Object.keys(custom).length > 0) context.properties = custom;
  return context;
}

/**
 * The same Context for input whose every value is a string (a plain query string, as
 * parsePlainQuery reads it), without the schema's walk: what contextSchema then toUnleashContext
 * give, or undefined wherever the schema must have its say (a value or property name over its
 * bound, too many fields, `currentTime`, a `properties` that is not a record); the caller then takes
 * the schema's path, which accepts or names the error. The bounds are the schema's constants.
 * test/evaluation/plain-query.test.ts holds the two equal over generated queries.
 */
export function plainStringsContext(input: Record<string, unknown>): Context | undefined {
  const context: Context = {};
  let custom: Record<string, string> | undefined;
  let fields = 0;
  for (const key in input) {
    fields++;
    const value = input[key];
    if (key === 'properties') continue;
    if (typeof value !== 'string' || value.length > MAX_VALUE_LENGTH || key === 'currentTime') return undefined;
    if ((STANDARD_FIELDS as readonly string[]).includes(key)) {
      if (value !== '') context[key] = value;
    } else (custom ??= {})[key] = value;
  }
  const properties = input.properties;
  if (properties !== undefined) {
    if (typeof properties !== 'object' || properties === null) return undefined;
    for (const name in properties) {
      fields++;
      const value = (properties as Record<string, unknown>)[name];
      if (typeof value !== 'string' || value.length > MAX_VALUE_LENGTH || name.length > MAX_PROPERTY_NAME_LENGTH) return undefined;
      (custom ??= {})[name] = value;
    }
  }
  if (fields > MAX_PROPERTIES) return undefined;
  if (custom) context.properties = custom;
  return context;
}

/** Browsers behind a dual-stack socket show up as ::ffff:a.b.c.d; the SDKs' address matching expects a.b.c.d. */
export function clientAddress(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  return raw.startsWith('::ffff:') && raw.includes('.') ? raw.slice(7) : raw;
}
