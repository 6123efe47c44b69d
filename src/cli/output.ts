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

/**
 * Characters that could move a terminal's cursor, recolour or reorder a line (bidirectional
 * overrides) or hide text. Text from the controller reaches people's terminals: flag names an
 * import kept as Unleash had them, reasons and descriptions people typed.
 */
const UNSAFE_IN_TERMINAL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}]/gu;
/** Line breaks and tabs lay out our own text; the zero-width joiner holds emoji sequences together. */
const SAFE_IN_TERMINAL = new Set(['\n', '\t', '\u200d']);

/** Text as a terminal shows it safely: each unsafe character as a visible \u{…} escape. */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE_IN_TERMINAL, (c) => (SAFE_IN_TERMINAL.has(c) ? c : `\\u{${c.codePointAt(0)!.toString(16)}}`));
}

export function print(text: string): void {
  const safe = terminalSafe(text);
  process.stdout.write(safe.endsWith('\n') ? safe : `${safe}\n`);
}

/** Notes for people (progress, hints) go to stderr, so stdout stays clean for pipes and --json. */
export function note(text: string): void {
  process.stderr.write(`${terminalSafe(text)}\n`);
}

/** The command's result: JSON for scripts with --json, else the human text. */
export function emit(json: boolean, value: unknown, human: () => string): void {
  if (json) printJson(value);
  else print(human());
}
