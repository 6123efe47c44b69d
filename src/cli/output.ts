/** Plain-text output helpers: aligned tables and JSON, written to stdout. */

const width = (s: string) => [...s].length;

/** Columns padded to their widest cell; the last column is not padded (long reasons wrap naturally). */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - width(c))))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Notes for people (progress, hints) go to stderr, so stdout stays clean for pipes and --json. */
export function note(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** The command's result: JSON for scripts with --json, else the human text. */
export function emit(json: boolean, value: unknown, human: () => string): void {
  if (json) printJson(value);
  else print(human());
}
