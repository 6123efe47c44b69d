import { AppError } from '../errors/app-error.js';

/**
 * How deeply a JSON body or file may nest. Parsing deep JSON is fine, but much of what follows walks
 * it recursively (schemas, the audit log's canonical hashing, JSON.stringify when it is stored), and
 * 10,000 levels overflow the stack there. The deepest legitimate document (a backup's audit event
 * holding a rollout's history) nests about 12 levels.
 */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

/**
 * The offset of the first bracket that nests deeper than `max` in JSON text, or -1. One pass over the
 * bytes, counting brackets outside strings (UTF-8 continuation bytes are never ASCII, so bytes work);
 * the rest of the syntax is the parser's business.
 */
export function tooDeepAt(text: Uint8Array | string, max = MAX_JSON_DEPTH): number {
  const at = typeof text === 'string' ? (i: number) => text.charCodeAt(i) : (i: number) => text[i]!;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = at(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > max) return i;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
  }
  return -1;
}

/** Refuses (400 json_too_deep) JSON text nesting deeper than MAX_JSON_DEPTH, before it is parsed. */
export function assertJsonDepth(text: Uint8Array | string, what = 'the body'): void {
  const at = tooDeepAt(text);
  if (at >= 0) throw new AppError('invalid', 'json_too_deep', `${what} nests deeper than ${MAX_JSON_DEPTH} levels (at byte ${at})`);
}
