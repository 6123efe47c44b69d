import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { describeIssues, MAX_LISTED_PROBLEMS, moreProblems } from '../validation/issues.js';

/** One problem of a file: where in it, and what was expected. */
export interface FileProblem {
  fieldPath: string;
  problem: string;
}

/**
 * A file that could not be loaded: which file, and every problem found in it. `fieldPath` and
 * `problem` are the first; `problems` lists them all (at most MAX_LISTED_PROBLEMS, `unlisted`
 * counts the rest), and lines() gives each as "file: field.path: problem".
 */
export class FileError extends Error {
  readonly problems: readonly FileProblem[];
  readonly unlisted: number;

  constructor(
    readonly file: string,
    readonly fieldPath: string,
    readonly problem: string,
    /** Further problems of the same file, after this one. */
    more: readonly FileProblem[] = [],
  ) {
    const total = 1 + more.length;
    super(`${file}: ${fieldPath}: ${problem}${total > 1 ? ` (${moreProblems(total - 1)})` : ''}`);
    this.name = 'FileError';
    this.problems = [{ fieldPath, problem }, ...more].slice(0, MAX_LISTED_PROBLEMS);
    this.unlisted = total - this.problems.length;
  }

  /** A file's problems (there is at least one). */
  static of(file: string, problems: readonly FileProblem[]): FileError {
    const [first, ...more] = problems;
    if (!first) throw new Error(`FileError.of(${file}) without a problem`);
    return new FileError(file, first.fieldPath, first.problem, more);
  }

  /** Each problem as "file: field.path: problem", then "file: and N more problems …" if some were left out. */
  lines(): string[] {
    const lines = this.problems.map((p) => `${this.file}: ${p.fieldPath}: ${p.problem}`);
    if (this.unlisted > 0) lines.push(`${this.file}: ${moreProblems(this.unlisted)} (only the first ${MAX_LISTED_PROBLEMS} are listed)`);
    return lines;
  }
}

/** Parses YAML and validates it whole; every problem is reported at once, each with its field path. */
export function parseYamlFile<S extends z.ZodType>(file: string, text: string, schema: S): z.output<S> {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw FileError.of(
      file,
      doc.errors.map((e) => ({ fieldPath: `line ${e.linePos?.[0].line ?? '?'}`, problem: `not valid YAML: ${e.message.split('\n')[0]}` })),
    );
  }
  const parsed = schema.safeParse(doc.toJS() ?? {});
  if (!parsed.success)
    throw FileError.of(
      file,
      // Every issue, for the count of those left unlisted; each one's path and message bounded in length.
      describeIssues(parsed.error, '', parsed.error.issues.length).map((issue) => ({ fieldPath: issue.path, problem: issue.message })),
    );
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
