/**
 * The cases of Unleash's client specification (test/sdk/specification.ts) that the server-side
 * evaluation paths cannot express as the specification writes them, each with its reason. The stock
 * SDK in every mode meets all of them; client-specification.test.ts asserts that exactly these
 * (no more, no fewer) take another course, and what the path answers instead.
 */

/**
 * The frontend API takes a context without `remoteAddress` to come from the request's own address,
 * as Unleash's frontend API does (a browser cannot know its public address): the test's requests
 * come from 127.0.0.1, which this flag's remoteAddress strategy lists, so it is on where the
 * specification (a context with no address at all) says off.
 */
export const FRONTEND_FILLS_REMOTE_ADDRESS = new Set([
  '06-remote-address-strategy: Feature.remoteAddress.A should not be enabled for missing remoteAddress on context',
]);

/**
 * OFREP answers TARGETING_KEY_MISSING (400) for a flag that hands users out by percentage or weight
 * when the context has nothing that split sticks to (no targetingKey, userId or sessionId, nor the
 * custom field its variants stick to): where the stock SDK would toss a coin (a percentage with no
 * one to stick to; variants whose stickiness field is missing), OFREP asks the caller for an
 * identity instead of letting a coin toss stand as the answer (docs/api.md, OFREP). Here the
 * specification asks only whether the flag is on, which the toss does not change, but OFREP's
 * answer is the variant's payload, which it would.
 */
export const OFREP_NEEDS_TARGETING_KEY = new Set(['15-global-constraints: F9.globalSegmentOn should be enabled']);

/**
 * OFREP names a flag the environment does not hold FLAG_NOT_FOUND (404), and an OpenFeature SDK
 * then answers the caller's default; the specification asks for off (and the disabled variant).
 */
export const OFREP_UNKNOWN_FLAG = new Set([
  '01-simple-examples: Unknown feature toggle should be disabled',
  '08-variants: Feature.Variants.MissingToggle should be disabled missing toggle',
  '14-constraint-semver-operators: F8.semverAlpha is less than release',
  '20-delta-api-events: delta.api.events.updated.2 should be disabled',
]);
