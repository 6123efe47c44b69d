import { createHash } from 'node:crypto';
import { z } from 'zod';
import { parseYamlFile, readYamlDir } from '../files/yaml-files.js';
import { uniqueNames } from '../validation/schema-errors.js';
import { authoredSegmentSchema, flagDefinitionSchema, type FlagDefinition, type Segment } from './schema.js';

/**
 * flags/*.yaml: flags as code. A file holds any number of flags and the segments they use.
 * A file is validated whole; one error anywhere means nothing from that file is loaded.
 */
export const flagFileSchema = z
  .object({
    segments: z.array(authoredSegmentSchema).default([]),
    flags: uniqueNames(z.array(flagDefinitionSchema), 'flag').default([]),
  })
  .strict();

export interface FlagFile {
  file: string;
  /** Hash of the parsed content: a restart with unchanged files does not re-apply them. */
  hash: string;
  flags: FlagDefinition[];
  segments: Segment[];
}

export function parseFlagFile(file: string, text: string): FlagFile {
  const content = parseYamlFile(file, text, flagFileSchema);
  const hash = createHash('sha256').update(JSON.stringify(content)).digest('hex');
  return { file, hash, ...content };
}

/** @param maxBytes the largest file read (YAML_FILE_MAX_BYTES). */
export const readFlagFiles = (dir: string, maxBytes?: number) => readYamlDir(dir, parseFlagFile, { maxBytes });
