import { hostname } from 'node:os';
import { type Check, compileConstraint, type ConstraintDefinition, never } from './constraints.js';
import type { FieldTable, RequestScope } from './request-scope.js';
import { type V4Bits, v4Bits, v4InSubnet } from './ipv4-bits.js';
import { Address4 } from './sdk-libraries.js';
import { GroupHash, type GroupHashes, STRATEGY_SEED } from './stickiness-hash.js';
import { CompiledVariants, type VariantDefinition } from './variants.js';

/**
 * Strategies compiled with unleash-client's rules (lib/strategy/*.js): what the SDK reads of the
 * parameters on every call is read once here; a percentage of 0 (or not a number) or of 100 and up
 * decides without hashing. A strategy the SDK does not know is skipped (never says yes), as the SDK does.
 */

export interface StrategyDefinition {
  name: string;
  parameters?: Record<string, string>;
  constraints?: ConstraintDefinition[];
  segments?: number[];
  variants?: VariantDefinition[];
}

export interface CompiledStrategy {
  /** Says yes when its constraints and segments hold and its own rule does (the SDK's isEnabledWithConstraints). */
  matches(scope: RequestScope): boolean;
  /** Its variants, when it has any: drawn only once it has said yes. */
  variants: CompiledVariants | undefined;
}

export interface StrategyCompiler {
  fields: FieldTable;
  groups: GroupHashes;
  /** A segment's check by id, or undefined when the flag set has no such segment (the SDK then says no). */
  segment(id: number): Check | undefined;
}

type Rule = (scope: RequestScope) => boolean;
type Parameters = Record<string, string>;

/** The SDK's applicationHostname: the HOSTNAME variable, else the OS host name, lower-cased. */
const HOSTNAME = (process.env.HOSTNAME || hostname() || 'undefined').toLowerCase();

const rules: Record<string, (p: Parameters, c: StrategyCompiler) => Rule> = {
  default: () => () => true,
  userWithId: (p) => {
    const ids = new Set(p.userIds ? String(p.userIds).split(/\s*,\s*/) : []);
    return (s) => s.context.userId !== undefined && ids.has(s.context.userId);
  },
  gradualRolloutRandom: (p) => {
    const percentage = Number(p.percentage);
    return (s) => percentage >= Math.floor(s.random() * 100) + 1;
  },
  gradualRolloutUserId: (p, c) => byPosition(Number(p.percentage), grouped(c.groups.of(p.groupId || '', STRATEGY_SEED)), (s) => s.context.userId),
  gradualRolloutSessionId: (p, c) => byPosition(Number(p.percentage), grouped(c.groups.of(p.groupId || '', STRATEGY_SEED)), (s) => s.context.sessionId),
  flexibleRollout: (p, c) => {
    const percentage = Number(p.rollout);
    const id = flexibleStickinessId(p.stickiness || 'default', c.fields);
    if (p.groupId) return byPosition(percentage, grouped(c.groups.of(p.groupId, STRATEGY_SEED)), id);
    // Without a groupId the SDK groups by the context's featureToggle field (hashed afresh: our
    // routes never set it), else by "".
    const ungrouped = c.groups.of('', STRATEGY_SEED);
    return byPosition(
      percentage,
      (s, value) => {
        const featureToggle = (s.context as { featureToggle?: unknown }).featureToggle;
        return featureToggle ? new GroupHash(String(featureToggle), STRATEGY_SEED).hash(value) : s.hash(ungrouped, value);
      },
      id,
    );
  },
  remoteAddress: (p) => {
    if (!p.IPs) return () => false;
    const ranges = String(p.IPs)
      .split(/\s*,\s*/)
      .map((range) => ({ range, network: address4(range) }));
    return (s) =>
      ranges.some(({ range, network }) => {
        if (range === s.context.remoteAddress) return true;
        const remote = network && s.remoteAddress4();
        return remote ? v4InSubnet(remote, network!) : false;
      });
  },
  applicationHostname: (p) => {
    const on =
      Boolean(p.hostNames) &&
      String(p.hostNames)
        .toLowerCase()
        .split(/\s*,\s*/)
        .includes(HOSTNAME);
    return () => on;
  },
};

/** flexibleRollout's stickiness value: userId, else sessionId, else a random one (default); random; or the named field. */
function flexibleStickinessId(stickiness: string, fields: FieldTable): (s: RequestScope) => unknown {
  const randomId = (s: RequestScope) => `${Math.round(s.random() * 10000) + 1}`;
  if (stickiness === 'default') return (s) => s.context.userId || s.context.sessionId || randomId(s);
  if (stickiness === 'random') return randomId;
  const field = fields.index(stickiness);
  return (s) => s.value(field);
}

function address4(range: string): V4Bits | undefined {
  try {
    return v4Bits(new Address4(range));
  } catch {
    return undefined;
  }
}

type HashOf = (scope: RequestScope, value: string) => number;

/** Hashes in a fixed group, each (group, value) once per request. */
function grouped(group: GroupHash): HashOf {
  return (s, value) => s.hash(group, value);
}

/**
 * The gradual rollouts' rule: a position of 1–100 by the hash of the stickiness value in the group,
 * in when at most the percentage; no stickiness value, no. 0 % (or NaN) is never, 100 % is whoever has a value.
 */
function byPosition(percentage: number, hashOf: HashOf, stickinessId: (s: RequestScope) => unknown): Rule {
  if (!(percentage > 0)) return () => false;
  if (percentage >= 100) return (s) => Boolean(stickinessId(s));
  return (s) => {
    const id = stickinessId(s);
    if (!id) return false;
    return (hashOf(s, String(id)) % 100) + 1 <= percentage;
  };
}

/** The strategy as the SDK evaluates it, or undefined for a strategy the SDK does not know. */
export function compileStrategy(definition: StrategyDefinition, compiler: StrategyCompiler): CompiledStrategy | undefined {
  const rule = Object.hasOwn(rules, definition.name) ? rules[definition.name]! : undefined;
  if (!rule) return undefined;
  const parameters = definition.parameters ?? {};
  const checks: Check[] = (definition.constraints ?? []).map((c) => compileConstraint(c, compiler.fields));
  for (const id of definition.segments ?? []) checks.push(compiler.segment(id) ?? never);
  const own = rule(parameters, compiler);
  const matches =
    checks.length === 0
      ? own
      : (s: RequestScope) => {
          for (const check of checks) if (!check(s)) return false;
          return own(s);
        };
  const variants =
    Array.isArray(definition.variants) && definition.variants.length > 0
      ? new CompiledVariants(definition.variants, parameters.groupId, definition.variants[0]!.stickiness || parameters.stickiness, compiler)
      : undefined;
  return { matches, variants };
}
