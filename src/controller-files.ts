import path from 'node:path';
import type { Logger } from './logger.js';
import type { Store } from './store/port.js';
import type { FlagService } from './flags/flag-service.js';
import { readFlagFiles } from './flags/flag-files.js';
import { describeConflict } from './flags/rollout-ownership.js';
import { type PolicyService, readPolicyFiles } from './policies/policy-service.js';
import { holidaysDir, loadHolidayCalendars } from './policies/holiday-calendars.js';
import type { EnvironmentService } from './environments/environment-service.js';
import { readEnvironmentsFile } from './environments/environment-files.js';
import { FileError } from './files/file-error.js';

/**
 * The files a controller applies at start (environments, flags, policies, holiday calendars), each
 * only when its content changed; a bad file is reported naming it and the others load.
 */
export async function applyConfigFiles(
  dirs: { environmentsFile: string; flagsDir: string; policiesDir: string; maxBytes: number },
  services: { environments: EnvironmentService; flags: FlagService; policies: PolicyService; store: Store },
  logger: Logger,
  now: () => Date,
  awaitApplied: (seq: number) => Promise<void>,
): Promise<void> {
  const { environmentsFile, flagsDir, policiesDir, maxBytes } = dirs;
  // Environments first: flag files naming an undeclared environment are refused.
  await loadEnvironmentsFile(environmentsFile, maxBytes, services.environments, logger);
  const upgraded = await services.environments.declareEnvironmentsInUse();
  if (upgraded.length > 0)
    logger.warn({ environments: upgraded }, `declared environments already in use: ${upgraded.join(', ')} (no rules; an admin may add some)`);
  await loadFlagFiles(flagsDir, maxBytes, services.flags, logger);
  await loadPolicyFiles(policiesDir, maxBytes, services.policies, logger, environmentsFile);
  await loadHolidayCalendars(services.store, holidaysDir(policiesDir), maxBytes, logger, now, awaitApplied);
}

/** Every problem of each file, one log line each ("file: field.path: problem"; see FileError). */
function reportFileErrors(kind: string, errors: FileError[], logger: Logger): void {
  for (const error of errors) {
    const lines = error.lines();
    error.problems.forEach((p, i) => logger.error({ file: error.file, field: p.fieldPath, problem: p.problem }, `${kind} file not loaded: ${lines[i]}`));
    if (error.unlisted > 0) logger.error({ file: error.file, unlisted: error.unlisted }, `${kind} file not loaded: ${lines.at(-1)}`);
  }
}

async function loadEnvironmentsFile(file: string, maxBytes: number, environments: EnvironmentService, logger: Logger): Promise<void> {
  try {
    const parsed = await readEnvironmentsFile(file, maxBytes);
    if (!parsed) {
      logger.info({ file }, 'no environments file: environments are declared through the admin API (and by the upgrade)');
      return;
    }
    const { applied, changed } = await environments.applyFile(parsed);
    if (applied) logger.info({ file, environments: parsed.environments.length, changed }, 'environments file applied');
  } catch (err) {
    if (!(err instanceof FileError)) throw err;
    reportFileErrors('environments', [err], logger);
  }
}

async function loadPolicyFiles(dir: string, maxBytes: number, policies: PolicyService, logger: Logger, environmentsFile: string): Promise<void> {
  // The environments file may live among the policies (its default place); it is not a policy.
  const { files, errors } = await readPolicyFiles(dir, { maxBytes, skip: (file) => path.resolve(file) === path.resolve(environmentsFile) });
  reportFileErrors('policy', errors, logger);
  for (const file of files) await policies.applyFile(file, path.relative(dir, file.file));
}

async function loadFlagFiles(dir: string, maxBytes: number, flags: FlagService, logger: Logger): Promise<void> {
  const { files, errors } = await readFlagFiles(dir, maxBytes);
  reportFileErrors('flag', errors, logger);
  for (const file of files) {
    const name = path.relative(dir, file.file);
    try {
      const { applied, refused } = await flags.applyFile(file, name);
      if (applied) logger.info({ file: file.file, flags: file.flags.length - refused.length, segments: file.segments.length }, 'flag file applied');
      // A person must act: the file and the controller disagree about a percentage a rollout set.
      for (const { flag, conflicts } of refused) {
        logger.error(
          { file: file.file, flag, conflicts },
          `flag file ${file.file}: flag ${flag} not applied: ${conflicts.map((c) => describeConflict(c, 'the file')).join('; ')}. ` +
            'Update the file to what is served (rolloutctl export), or apply it with rolloutctl apply --force to undo the rollout',
        );
      }
    } catch (err) {
      if (err instanceof FileError) reportFileErrors('flag', [err], logger);
      else logger.error({ file: file.file, err: (err as Error).message }, `flag file not loaded: ${(err as Error).message}`);
    }
  }
}
