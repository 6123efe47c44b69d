import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { FileError, parseYamlFile } from '../files/yaml-files.js';
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

/** Reads the file; a missing file is no error (null): environments may be declared through the API alone. */
export async function readEnvironmentsFile(file: string): Promise<EnvironmentsFile | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new FileError(file, '(root)', `cannot be read: ${(err as Error).message}`);
  }
  return parseEnvironmentsFile(file, text);
}
