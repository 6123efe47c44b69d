import { formatPath } from '../validation/issues.js';

/** One difference between what the controller has and what a file says, at a field path. */
export interface FieldChange {
  path: string;
  op: 'add' | 'remove' | 'change';
  before?: unknown;
  after?: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Equal as JSON (the only values compared here): without node:util, so the dashboard shows the same diff. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => sameJson(v, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && sameJson(a[k], b[k]));
  }
  return false;
}

/**
 * Field-by-field differences between two JSON values: objects by key, arrays by position, so a
 * reviewer sees "environments.production.strategies[0].parameters.rollout: "10" → "20"" rather
 * than two whole documents.
 */
export function diffJson(before: unknown, after: unknown, at: PropertyKey[] = []): FieldChange[] {
  if (sameJson(before, after)) return [];
  const path = formatPath('', at);
  if (before === undefined) return [{ path, op: 'add', after }];
  if (after === undefined) return [{ path, op: 'remove', before }];
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => diffJson(before[k], after[k], [...at, k]));
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    return Array.from({ length: Math.max(before.length, after.length) }, (_, i) => diffJson(before[i], after[i], [...at, i])).flat();
  }
  return [{ path, op: 'change', before, after }];
}

function compact(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
}

/** "  ~ path: before → after", "  + path: value", "  - path: value". */
export function formatChange(c: FieldChange): string {
  switch (c.op) {
    case 'add':
      return `  + ${c.path}: ${compact(c.after)}`;
    case 'remove':
      return `  - ${c.path}: ${compact(c.before)}`;
    case 'change':
      return `  ~ ${c.path}: ${compact(c.before)} → ${compact(c.after)}`;
  }
}
