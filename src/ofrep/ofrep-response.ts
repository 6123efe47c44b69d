import type { z } from 'zod';
import type { Context } from 'unleash-client';
import { contextSchema, toUnleashContext } from '../evaluation/context.js';
import type { Evaluation } from '../evaluation/evaluation.js';
import { describeIssues } from '../validation/issues.js';

/**
 * Pure translation between OFREP (OpenFeature Remote Evaluation Protocol) and the engine's
 * evaluations: the request's context in, success or failure bodies out.
 */

export type OfrepErrorCode = 'PARSE_ERROR' | 'TARGETING_KEY_MISSING' | 'INVALID_CONTEXT' | 'GENERAL' | 'FLAG_NOT_FOUND';

export interface OfrepSuccess {
  key: string;
  value: boolean | string | number | object;
  reason: Evaluation['reason'];
  variant: string;
  metadata: { cohort: Evaluation['cohort'] };
}

export interface OfrepFailure {
  key: string;
  errorCode: OfrepErrorCode;
  errorDetails: string;
}

export type ParsedOfrepContext = { ok: true; context: Context; hasIdentity: boolean } | { ok: false; errorCode: OfrepErrorCode; errorDetails: string };

/**
 * OpenFeature's `targetingKey` is Unleash's `userId` (unless the context also names a userId); the
 * other attributes are read as in the frontend API. Nested objects cannot be matched by any
 * Unleash operator, so they are INVALID_CONTEXT, with the field named.
 */
export function parseOfrepContext(raw: unknown): ParsedOfrepContext {
  if (raw === undefined || raw === null) return { ok: true, context: {}, hasIdentity: false };
  if (typeof raw !== 'object' || Array.isArray(raw)) return invalid('context: expected an object');
  const { targetingKey, ...attributes } = raw as Record<string, unknown>;
  if (targetingKey !== undefined && targetingKey !== null && typeof targetingKey !== 'string') {
    return invalid('context.targetingKey: expected a string');
  }
  const parsed = contextSchema.safeParse(attributes);
  if (!parsed.success) {
    const first = describeIssues(parsed.error as z.ZodError, 'context')[0]!;
    return invalid(`${first.path}: ${first.message}`);
  }
  const context = toUnleashContext(parsed.data);
  if (targetingKey && context.userId === undefined) context.userId = targetingKey;
  return { ok: true, context, hasIdentity: Boolean(context.userId ?? context.sessionId) };
}

function invalid(errorDetails: string): ParsedOfrepContext {
  return { ok: false, errorCode: 'INVALID_CONTEXT', errorDetails };
}

export function failure(key: string, errorCode: OfrepErrorCode, errorDetails: string): OfrepFailure {
  return { key, errorCode, errorDetails };
}

export function targetingKeyMissing(key: string): OfrepFailure {
  return failure(
    key,
    'TARGETING_KEY_MISSING',
    `flag "${key}" splits users by percentage or weight: the context needs a targetingKey (or userId or sessionId, or the field it sticks to) to stick to`,
  );
}

/**
 * The value of a flag: its variant's payload when it has one (string and csv as text, number as a
 * number, json parsed), otherwise whether the flag is on. The variant names what was chosen: the
 * Unleash variant, or "on"/"off" for a flag without one.
 */
export function toOfrepSuccess(evaluation: Evaluation): OfrepSuccess {
  const { variant } = evaluation;
  return {
    key: evaluation.flag,
    value: variant.enabled && variant.payload ? payloadValue(variant.payload) : evaluation.enabled,
    reason: evaluation.reason,
    variant: variant.enabled ? variant.name : evaluation.enabled ? 'on' : 'off',
    metadata: { cohort: evaluation.cohort },
  };
}

function payloadValue(payload: { type: string; value: string }): string | number | object {
  if (payload.type === 'number') {
    const n = Number(payload.value);
    return Number.isFinite(n) ? n : payload.value;
  }
  if (payload.type === 'json') {
    try {
      const parsed = JSON.parse(payload.value) as object | null;
      return parsed ?? payload.value;
    } catch {
      return payload.value;
    }
  }
  return payload.value;
}
