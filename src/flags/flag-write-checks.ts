import type { Store } from '../store/port.js';
import { AppError } from '../errors/app-error.js';
import { issuesError } from '../validation/issues.js';
import { FileError } from '../files/file-error.js';
import { undeclaredAmong, undeclaredMessage } from '../environments/declared.js';
import type { FlagFile } from './flag-files.js';
import type { Problem } from './segment-references.js';
import { describeConflict, type OwnershipConflict } from './rollout-ownership.js';

/** Refusals FlagService raises before it writes: each names what was wrong and where. */

/** A flag file naming an undeclared environment loads nothing; the error names the first such field. */
export async function assertFileEnvironmentsDeclared(store: Store, file: FlagFile): Promise<void> {
  const { undeclared, declared } = await undeclaredAmong(
    store,
    file.flags.flatMap((f) => Object.keys(f.environments)),
  );
  if (undeclared.length === 0) return;
  const i = file.flags.findIndex((f) => undeclared.some((env) => env in f.environments));
  const env = Object.keys(file.flags[i]!.environments).find((e) => undeclared.includes(e))!;
  throw new FileError(file.file, `flags[${i}].environments.${env}`, undeclaredMessage(undeclared, declared));
}

export function ownershipError(conflicts: OwnershipConflict[]): AppError {
  const lines = conflicts.map((c) => describeConflict(c, 'the change'));
  return new AppError(
    'conflict',
    'rollout_owns_percentage',
    `${lines.join('; ')}: refused, since it would undo what the rollout set (send ?force=true to apply it anyway)`,
    { conflicts },
  );
}

export function throwIfProblems(problems: Problem[]): void {
  if (problems.length > 0) throw issuesError('body', problems);
}
