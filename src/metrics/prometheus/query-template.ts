import type { Cohort } from '../outcome-model.js';

/**
 * Turns a PromQL template into a query for one flag, environment, cohort and window. Pure: the
 * provider calls it before any I/O, and a template that cannot be rendered safely is refused
 * rather than sent, because a query that silently matches other series could pass a gate.
 */

export interface QueryVars {
  flag: string;
  environment: string;
  cohort: Cohort;
  /** The analysis window; rendered as a PromQL duration ("5m", "1m30s"). */
  windowMs: number;
}

export type RenderedQuery = { ok: true; query: string } | { ok: false; reason: string };

const PLACEHOLDER = /^\{\{\s*([A-Za-z]+)\s*\}\}/;
type Quote = '"' | "'" | '`';

const DURATION_UNITS: Array<[unit: string, ms: number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
];

/** A positive number of ms as a PromQL duration, largest units first ("1h30m", "500ms"); fractions of a ms round up. */
export function promDuration(ms: number): string | undefined {
  if (!Number.isFinite(ms) || ms <= 0) return undefined;
  let rest = Math.ceil(ms);
  let out = '';
  for (const [unit, size] of DURATION_UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}

/**
 * Escapes a value for the inside of a PromQL string opened with `quote`. PromQL accepts only the
 * escapes of Go strings plus the opening quote, so `\'` inside "…" would be a syntax error: the
 * escaping depends on which quote the template used. Raw (backtick) strings have no escapes at all,
 * so a value holding a backtick cannot be put in one.
 */
export function escapePromString(value: string, quote: Quote): string | undefined {
  if (quote === '`') return value.includes('`') ? undefined : value;
  let out = '';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\' || ch === quote) out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    // A raw control character ends PromQL's string lexer with "unterminated quoted string".
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out;
}

/**
 * Fills `{{flag}}`, `{{environment}}`, `{{cohort}}` and `{{window}}`. A value placeholder inside a
 * quoted PromQL string is escaped for that string's quote; outside any string it becomes a
 * double-quoted string of its own (so `{flag={{flag}}}` works and can never inject PromQL).
 * `{{window}}` is a duration we generate, inserted as it is. Any other placeholder is refused.
 */
export function renderQuery(template: string, vars: QueryVars): RenderedQuery {
  const window = promDuration(vars.windowMs);
  if (window === undefined) return { ok: false, reason: `the window must be a positive number of ms, got ${vars.windowMs}` };
  const values: Record<string, string> = { flag: vars.flag, environment: vars.environment, cohort: vars.cohort };

  let out = '';
  let quote: Quote | undefined; // the quote of the string literal we are inside, if any
  for (let i = 0; i < template.length; ) {
    const placeholder = template[i] === '{' ? PLACEHOLDER.exec(template.slice(i)) : null;
    if (placeholder) {
      const name = placeholder[1]!;
      const raw = name === 'window' ? window : values[name];
      if (raw === undefined) return { ok: false, reason: `unknown placeholder {{${name}}} (known: flag, environment, cohort, window)` };
      if (name === 'window') out += raw;
      else {
        const escaped = escapePromString(raw, quote ?? '"');
        if (escaped === undefined) return { ok: false, reason: `the ${name} cannot be written inside a backtick string` };
        out += quote ? escaped : `"${escaped}"`;
      }
      i += placeholder[0].length;
      continue;
    }
    const ch = template[i]!;
    out += ch;
    i += 1;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote !== '`' && i < template.length) out += template[i++]; // the escaped character
    } else if (ch === '"' || ch === "'" || ch === '`') quote = ch;
  }
  return { ok: true, query: out };
}
