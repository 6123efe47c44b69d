import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The environments the tests use, declared for every controller the harnesses start, without
 * rules, so that a test's short policies may start rollouts anywhere. A test about guard rails
 * passes its own file (startTestController's `environmentsFile`, or ENVIRONMENTS_FILE in env).
 */
export const TEST_ENVIRONMENTS = ['production', 'staging', 'development', 'test'] as const;

/** Writes an environments file (YAML is a superset of JSON) in a fresh directory and returns its path. */
export function writeEnvironmentsFile(environments: Array<Record<string, unknown>>, name = 'environments.yaml'): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'rc-envs-')), name);
  writeFileSync(file, JSON.stringify({ environments }, null, 2));
  return file;
}

let shared: string | undefined;

/** One file for the whole test process: the same content, so a restart on the same store re-applies nothing. */
export function testEnvironmentsFile(): string {
  return (shared ??= writeEnvironmentsFile(TEST_ENVIRONMENTS.map((name) => ({ name, description: `${name} (tests)` }))));
}
