import fc from 'fast-check';
import type { Context } from 'unleash-client';
import type { ValuePools } from './flag-sets.js';

/**
 * Contexts built around what a flag set compares with, so that generated cases land on the edges
 * of each rule: every constraint value as it is, in other cases, padded, cut short, one number or
 * version away, as a pre-release or with a "v"; dates just before, at and after each date
 * constraint; addresses inside, at the edge of and outside each network, IPv4 and IPv6; fields
 * missing, empty, or only under `properties`; and random values besides.
 */

const STANDARD = ['userId', 'sessionId', 'remoteAddress', 'environment', 'appName'] as const;

/** The variants of one value that sit near the rules that could compare it. */
function near(value: string): string[] {
  const out = [value, value.toUpperCase(), value.toLowerCase(), ` ${value} `, `${value}x`, `x${value}`, value.slice(0, -1), value.slice(1)];
  const n = Number(value);
  if (value.trim() !== '' && Number.isFinite(n)) out.push(String(n + 1), String(n - 1), `${n}.0`, String(n + 0.5), String(n - 0.5), `${n}e0`);
  const version = value.match(/^(\d+)\.(\d+)\.(\d+)/);
  if (version) {
    const [, major, minor, patch] = version.map(Number) as [number, number, number, number];
    out.push(
      `${major + 1}.${minor}.${patch}`,
      `${major}.${minor + 1}.${patch}`,
      `${major}.${minor}.${patch + 1}`,
      `${major}.${minor}.${patch}-beta.1`,
      `${major}.${minor}.${patch}-rc.2`,
      `${major}.${minor}.${patch}+build.7`,
      `v${major}.${minor}.${patch}`,
      `${major}.${minor}`,
    );
  }
  const ip = value.match(/^(\d+)\.(\d+)\.(\d+)\.(\d+)(\/\d+)?$/);
  if (ip)
    out.push(`${ip[1]}.${ip[2]}.${ip[3]}.${ip[4]}`, `${ip[1]}.${ip[2]}.${ip[3]}.${(Number(ip[4]) + 1) % 256}`, `${ip[1]}.${(Number(ip[2]) + 1) % 256}.0.1`);
  if (value.includes(':') && /^[0-9a-f:./]+$/i.test(value)) out.push(value.replace(/\/\d+$/, ''), value.replace(/\/\d+$/, '').replace(/::$/, '::ff'));
  return out;
}

const randomText = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.integer({ min: -1000, max: 100_000 }).map(String),
  fc.double({ noNaN: true, min: -1e6, max: 1e6 }).map(String),
);

/** A value for one field: mostly near the flag set's own values for it, sometimes anything. */
function valueFor(pool: readonly string[]): fc.Arbitrary<string> {
  const candidates = [...new Set(pool.flatMap(near))];
  return candidates.length === 0 ? randomText : fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...candidates) }, { weight: 1, arbitrary: randomText });
}

const address = (pool: readonly string[]) =>
  fc.oneof(
    valueFor(pool.length ? pool : ['10.0.0.1', '192.168.1.1']),
    fc.ipV4(),
    fc.ipV6(),
    fc.constantFrom('::1', '::ffff:10.1.2.3', '2001:db8::7', '10.0.0.256', '10.0.0', 'localhost', '10.0.0.0/8', ''),
  );

function timeNear(dates: readonly number[]): fc.Arbitrary<Date | string> {
  const base = dates.length ? dates : [Date.parse('2025-06-01T00:00:00Z')];
  const offsets = [-86_400_000, -3_600_000, -1, 0, 1, 3_600_000, 86_400_000];
  const exact = fc.tuple(fc.constantFrom(...base), fc.constantFrom(...offsets)).map(([d, o]) => new Date(d + o));
  const anywhere = fc.date({ min: new Date('2019-01-01T00:00:00Z'), max: new Date('2031-01-01T00:00:00Z'), noInvalidDate: true });
  // The SDK also takes a string (as the specification's contexts give it).
  return fc.oneof({ weight: 4, arbitrary: exact }, { weight: 2, arbitrary: anywhere }, { weight: 1, arbitrary: exact.map((d) => d.toISOString()) });
}

export interface GeneratedCase {
  context: Context;
  /** What Math.random returns throughout this case, for both engines (random stickiness, random rollouts). */
  random: number;
}

export function caseFor(pools: ValuePools): fc.Arbitrary<GeneratedCase> {
  const field = (name: string) => pools.byField.get(name) ?? [];
  const standard = {
    userId: valueFor([...field('userId'), ...pools.userIds, '1', '2', '123', 'u1']),
    sessionId: valueFor([...field('sessionId'), '1', '42', 'sess-7']),
    remoteAddress: address([...field('remoteAddress'), ...pools.addresses]),
    environment: valueFor([...field('environment'), 'production', 'development', 'test']),
    appName: valueFor([...field('appName'), 'web', 'mobile', 'web-frontend']),
  };
  const customNames = [...new Set([...pools.byField.keys(), ...pools.stickinessFields])].filter(
    (name) => !(STANDARD as readonly string[]).includes(name) && name !== 'currentTime',
  );
  const properties = fc.record(Object.fromEntries(customNames.map((name) => [name, valueFor(field(name))])), { requiredKeys: [] });
  const presence = fc.constantFrom('absent', 'top', 'top', 'top', 'empty', 'property');
  const standardFields = fc.record(
    Object.fromEntries(STANDARD.map((name) => [name, fc.tuple(presence, standard[name])])) as Record<(typeof STANDARD)[number], fc.Arbitrary<[string, string]>>,
  );
  return fc
    .record({
      standard: standardFields,
      properties,
      currentTime: fc.option(timeNear(pools.dates), { nil: undefined }),
      featureToggle: fc.option(fc.constantFrom('flex.groupless', 'other'), { nil: undefined, freq: 20 }),
      random: fc.oneof(fc.constantFrom(0, 0.5, 0.999999), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })),
    })
    .map(({ standard: fields, properties: props, currentTime, featureToggle, random }) => {
      const context: Record<string, unknown> = {};
      const inProperties: Record<string, string> = { ...(props as Record<string, string>) };
      for (const [name, [where, value]] of Object.entries(fields)) {
        if (where === 'top') context[name] = value;
        else if (where === 'empty') context[name] = '';
        else if (where === 'property') inProperties[name] = value;
      }
      if (currentTime !== undefined) context.currentTime = currentTime;
      if (featureToggle !== undefined) context.featureToggle = featureToggle;
      if (Object.keys(inProperties).length > 0) context.properties = inProperties;
      return { context: context as Context, random };
    });
}
