import { AppError } from '../errors/app-error.js';

/**
 * A document written under a name in the path (`PUT /api/admin/policies/{name}`) may repeat its
 * name in the body; when it does, the two must agree, or the write would land under a name the
 * body does not say. An absent body name takes the path's. `field` names it where it is not `name`
 * (a segment's numeric `id`).
 */
export function assertNameMatchesPath<K extends string | number>(bodyName: K | undefined, pathName: K, field = 'name'): void {
  if (bodyName !== undefined && bodyName !== pathName) {
    throw new AppError('invalid', 'validation_failed', `invalid body: ${field}: "${bodyName}" does not match the path’s "${pathName}"`);
  }
}
