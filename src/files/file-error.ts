import { MAX_LISTED_PROBLEMS, moreProblems } from '../validation/issues.js';

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
