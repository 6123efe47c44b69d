import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { formatPath } from '../http/app-error.js';
import { flagDefinitionSchema, segmentSchema, type FlagDefinition, type Segment } from './schema.js';

/**
 * flags/*.yaml: flags as code. A file holds any number of flags and the segments they use.
 * A file is validated whole; one error anywhere means nothing from that file is loaded.
 */
export const flagFileSchema = z
  .object({
    segments: z.array(segmentSchema).default([]),
    flags: z.array(flagDefinitionSchema).default([]),
  })
  .strict();

export interface FlagFile {
  file: string;
  /** Hash of the parsed content: a restart with unchanged files does not re-apply them. */
  hash: string;
  flags: FlagDefinition[];
  segments: Segment[];
}

export class FlagFileError extends Error {
  constructor(
    readonly file: string,
    readonly fieldPath: string,
    readonly problem: string,
  ) {
    super(`${file}: ${fieldPath}: ${problem}`);
    this.name = 'FlagFileError';
  }
}

export function parseFlagFile(file: string, text: string): FlagFile {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    throw new FlagFileError(file, `line ${first.linePos?.[0].line ?? '?'}`, `not valid YAML: ${first.message.split('\n')[0]}`);
  }
  const parsed = flagFileSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new FlagFileError(file, formatPath('', issue.path), issue.message);
  }
  const names = new Set<string>();
  parsed.data.flags.forEach((flag, i) => {
    if (names.has(flag.name)) throw new FlagFileError(file, `flags[${i}].name`, `duplicate flag "${flag.name}"`);
    names.add(flag.name);
  });
  const hash = createHash('sha256').update(JSON.stringify(parsed.data)).digest('hex');
  return { file, hash, ...parsed.data };
}

/** Reads every *.yaml / *.yml in a directory. Good files load; each bad one is reported, not thrown. */
export async function readFlagFiles(dir: string): Promise<{ files: FlagFile[]; errors: FlagFileError[] }> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { files: [], errors: [] };
    throw err;
  }
  const files: FlagFile[] = [];
  const errors: FlagFileError[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    try {
      files.push(parseFlagFile(file, await readFile(file, 'utf8')));
    } catch (err) {
      if (err instanceof FlagFileError) errors.push(err);
      else throw err;
    }
  }
  return { files, errors };
}
