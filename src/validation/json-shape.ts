import { boundedPath } from './issues.js';

export interface JsonShapeLimits {
  /** Array entries and object members, nested ones included. */
  maxValues: number;
  /** Levels of arrays and objects inside one another. */
  maxDepth: number;
}

export type JsonShapeProblem = { kind: 'values'; count: number } | { kind: 'depth'; path: string };

/**
 * Checks a parsed JSON value against a budget before a schema sees it: validation makes an issue
 * object per bad value, so a body of a million wrong values would cost far more memory and time
 * than its bytes. One pass, without recursion (a deep document cannot exhaust the stack here),
 * stopping at the first value over the budget.
 */
export function checkJsonShape(value: unknown, limits: JsonShapeLimits): JsonShapeProblem | undefined {
  let values = 0;
  const stack: Array<{ value: unknown; depth: number; parent: number; key: PropertyKey }> = [{ value, depth: 0, parent: -1, key: '' }];
  // Every container visited, kept so the path to a too-deep one can be named.
  const visited: Array<{ parent: number; key: PropertyKey }> = [];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (typeof node.value !== 'object' || node.value === null) continue;
    const index = visited.push({ parent: node.parent, key: node.key }) - 1;
    if (node.depth >= limits.maxDepth) return { kind: 'depth', path: pathOf(visited, index) };
    const container = node.value as Record<PropertyKey, unknown>;
    const keys: readonly PropertyKey[] | undefined = Array.isArray(container) ? undefined : Object.keys(container);
    const length = keys ? keys.length : (container as unknown as unknown[]).length;
    // Counted before the children are looked at: a list of millions is refused without a walk through it.
    values += length;
    if (values > limits.maxValues) return { kind: 'values', count: values };
    for (let i = 0; i < length; i++) {
      const key = keys ? keys[i]! : i;
      const child = container[key];
      if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: node.depth + 1, parent: index, key });
    }
  }
  return undefined;
}

function pathOf(visited: Array<{ parent: number; key: PropertyKey }>, index: number): string {
  const keys: PropertyKey[] = [];
  for (let i = index; i > 0; i = visited[i]!.parent) keys.unshift(visited[i]!.key);
  return boundedPath('', keys);
}
