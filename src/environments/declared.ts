import type { Store } from '../store/port.js';
import { AppError } from '../errors/app-error.js';
import { ENVIRONMENTS } from './environment-schema.js';

/**
 * The one check that an environment a change names is declared. Flags, imports, kill switches,
 * tokens and rollouts all call it, so a typo ("prodution") is refused instead of silently creating
 * an environment nobody guards. It reads only the ids (versions), which is cheap: environments are few.
 */

export const UNKNOWN_ENVIRONMENT = 'unknown_environment';

export async function declaredEnvironmentNames(store: Store): Promise<string[]> {
  return [...(await store.versions(ENVIRONMENTS)).keys()].sort();
}

/** The names among `names` that are not declared, and every declared name (sorted). */
export async function undeclaredAmong(store: Store, names: Iterable<string>): Promise<{ undeclared: string[]; declared: string[] }> {
  const declared = await declaredEnvironmentNames(store);
  const known = new Set(declared);
  const undeclared = [...new Set(names)].filter((n) => !known.has(n)).sort();
  return { undeclared, declared };
}

/** For people: what is missing, what exists, and how to declare one. */
export function undeclaredMessage(undeclared: string[], declared: string[]): string {
  const what =
    undeclared.length === 1 ? `environment "${undeclared[0]}" is not declared` : `environments ${undeclared.map((n) => `"${n}"`).join(', ')} are not declared`;
  const existing = declared.length > 0 ? `declared environments: ${declared.join(', ')}` : 'no environment is declared yet';
  return `${what}; ${existing} (an admin declares one with PUT /api/admin/environments/{name} or in the environments file)`;
}

export function unknownEnvironmentError(undeclared: string[], declared: string[]): AppError {
  return new AppError('not-found', UNKNOWN_ENVIRONMENT, undeclaredMessage(undeclared, declared), { undeclared, declared });
}

/** Throws 404 unknown_environment (with `details.declared`) unless every name is declared. */
export async function assertEnvironmentsDeclared(store: Store, names: Iterable<string>): Promise<void> {
  const { undeclared, declared } = await undeclaredAmong(store, names);
  if (undeclared.length > 0) throw unknownEnvironmentError(undeclared, declared);
}
