import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { formatPath } from '../http/app-error.js';

/** A file that could not be loaded: which file, where in it, and what was expected. */
export class FileError extends Error {
  constructor(
    readonly file: string,
    readonly fieldPath: string,
    readonly problem: string,
  ) {
    super(`${file}: ${fieldPath}: ${problem}`);
    this.name = 'FileError';
  }
}

/** Parses YAML and validates it whole; the first problem is reported with its field path. */
export function parseYamlFile<S extends z.ZodType>(file: string, text: string, schema: S): z.output<S> {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    throw new FileError(file, `line ${first.linePos?.[0].line ?? '?'}`, `not valid YAML: ${first.message.split('\n')[0]}`);
  }
  const parsed = schema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new FileError(file, formatPath('', issue.path), issue.message);
  }
  return parsed.data;
}

/** Reads every *.yaml / *.yml in a directory. Good files load; each bad one is reported, not thrown. */
export async function readYamlDir<T>(
  dir: string,
  parse: (file: string, text: string) => T,
  skip: (file: string) => boolean = () => false,
): Promise<{ files: T[]; errors: FileError[] }> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { files: [], errors: [] };
    throw err;
  }
  const files: T[] = [];
  const errors: FileError[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    if (skip(file)) continue;
    try {
      files.push(parse(file, await readFile(file, 'utf8')));
    } catch (err) {
      if (err instanceof FileError) errors.push(err);
      else throw err;
    }
  }
  return { files, errors };
}
