import { createHash } from 'node:crypto';
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { readBoundedFile } from '../files/bounded-read.js';
import { DEFAULT_YAML_FILE_MAX_BYTES } from '../files/file-limits.js';
import { parseYamlFile } from '../files/yaml-files.js';
import { uniqueNames } from '../validation/schema-errors.js';
import { environmentSchema, type Environment } from './environment-schema.js';

/** The environments file's name when ENVIRONMENTS_FILE is unset: it sits with the policies it constrains. */
export const DEFAULT_ENVIRONMENTS_FILE_NAME = 'environments.yaml';

/** ENVIRONMENTS_FILE, or environments.yaml inside POLICIES_DIR. */
export function environmentsFilePath(config: { ENVIRONMENTS_FILE?: string; POLICIES_DIR: string }): string {
  return config.ENVIRONMENTS_FILE ?? path.join(config.POLICIES_DIR, DEFAULT_ENVIRONMENTS_FILE_NAME);
}

/** `environments: [{name, description?, owner?, rules?}]`, validated whole: one error and nothing loads. */
export const environmentsFileSchema = z.object({ environments: uniqueNames(z.array(environmentSchema), 'environment').default([]) }).strict();

export interface EnvironmentsFile {
  file: string;
  /** Hash of the parsed content: a restart with an unchanged file re-applies nothing. */
  hash: string;
  environments: Environment[];
}

export function parseEnvironmentsFile(file: string, text: string): EnvironmentsFile {
  const { environments } = parseYamlFile(file, text, environmentsFileSchema);
  return { file, environments, hash: createHash('sha256').update(JSON.stringify(environments)).digest('hex') };
}

/**
 * Reads the file with the checks every file gets (readBoundedFile: a regular file inside its own
 * directory, at most maxBytes). A missing file is no error (null): environments may be declared
 * through the API alone; a symlink to nowhere is an error, as someone meant a file to be there.
 */
export async function readEnvironmentsFile(file: string, maxBytes = DEFAULT_YAML_FILE_MAX_BYTES): Promise<EnvironmentsFile | null> {
  const exists = await lstat(file).then(
    () => true,
    (err: NodeJS.ErrnoException) => err.code !== 'ENOENT',
  );
  if (!exists) return null;
  return parseEnvironmentsFile(file, await readBoundedFile(file, { maxBytes, directory: path.dirname(file) }));
}
