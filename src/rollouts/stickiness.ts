/**
 * Which value of a context a flag sticks to, and under which group: the unit a rollout randomises.
 * Pure and dependency-free: the SDK helper (per guarded call) and server-side evaluation (per
 * evaluation of the frontend API and OFREP) both take a user's hashed bucket and sample hash from
 * the same value, so the controller counts users exactly as the flag assigns them.
 */

/** What is read of a flag's definition: its strategies (the client features shape, or the SDK's own). */
export interface StickinessSource {
  strategies?: ReadonlyArray<{ name: string; parameters?: Record<string, unknown> }>;
}

/** The context field the rollout strategy hashes (`default`: userId, else sessionId), and its group (the flag's name unless set). */
export interface Stickiness {
  field: string;
  groupId: string;
}

/** A context as both unleash-client and the evaluation routes hold it: named fields and free-form properties. */
export interface StickinessContext {
  userId?: string;
  sessionId?: string;
  properties?: Record<string, unknown>;
  [field: string]: unknown;
}

/**
 * The stickiness of the flag's flexibleRollout strategy (the one a rollout owns and moves), or
 * Unleash's defaults when it has none: `default` stickiness, grouped by the flag's name.
 */
export function stickinessOf(definition: StickinessSource | undefined, flag: string): Stickiness {
  const rollout = definition?.strategies?.find((s) => s.name === 'flexibleRollout');
  const field = rollout?.parameters?.stickiness;
  const groupId = rollout?.parameters?.groupId;
  return {
    field: typeof field === 'string' && field !== '' ? field : 'default',
    groupId: typeof groupId === 'string' && groupId !== '' ? groupId : flag,
  };
}

/**
 * The value a context sticks to, as unleash-client resolves it: `default` is the userId, else the
 * sessionId (the SDK would draw a random value next, which identifies nobody); any other field is
 * read from the context, then from its properties. Undefined when the context has none.
 */
export function stickinessValue(stickiness: Stickiness, context: StickinessContext | undefined): string | undefined {
  if (!context) return undefined;
  // `||` as the SDK has it: an empty userId gives way to the sessionId.
  const value = stickiness.field === 'default' ? context.userId || context.sessionId : (context[stickiness.field] ?? context.properties?.[stickiness.field]);
  return value === undefined || value === null || value === '' ? undefined : String(value);
}
