/**
 * The frontend API's query string in its plain form, read without express's parser (`qs`, which
 * costs about a tenth of a fast-lane request): `name=value` pairs, each name at most once, either a
 * field (`userId`) or a property (`properties[plan]`, brackets encoded or not). For such a query the
 * result is exactly `qs.parse(query, { allowPrototypes: true })`, as express's "extended" parser
 * gives it: the same `%5B`/`%5D` replacement first, the same split of each pair (at `]=` when there
 * is one), the same decoding (`+` is a space; a malformed escape leaves the text as it was).
 * Anything else is undefined, and the caller hands the query to express's own parser: a name given
 * twice (qs makes a list of it), a name of Object.prototype, brackets anywhere but around one
 * property name, a numeric property name (qs makes an array), an empty name, more than 100 pairs.
 * test/evaluation/plain-query.test.ts holds it equal to qs over generated queries.
 */

const MAX_PAIRS = 100;
const PROTOTYPE_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));
const PROPERTIES = 'properties[';

/** qs's decoder (utf-8). */
function decode(text: string): string {
  const spaced = text.indexOf('+') === -1 ? text : text.replace(/\+/g, ' ');
  if (spaced.indexOf('%') === -1) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

function plainName(name: string): boolean {
  return name !== '' && !PROTOTYPE_NAMES.has(name) && name.indexOf('[') === -1 && name.indexOf(']') === -1;
}

export function parsePlainQuery(query: string): Record<string, unknown> | undefined {
  if (query === '') return {};
  const pairs = query.replace(/%5B/gi, '[').replace(/%5D/gi, ']').split('&');
  if (pairs.length > MAX_PAIRS) return undefined;
  const out: Record<string, unknown> = {};
  let properties: Record<string, string> | undefined;
  for (const pair of pairs) {
    const bracketEquals = pair.indexOf(']=');
    const at = bracketEquals === -1 ? pair.indexOf('=') : bracketEquals + 1;
    const key = decode(at === -1 ? pair : pair.slice(0, at));
    const value = at === -1 ? '' : decode(pair.slice(at + 1));
    if (plainName(key)) {
      if (Object.hasOwn(out, key)) return undefined;
      out[key] = value;
      continue;
    }
    if (!key.startsWith(PROPERTIES) || !key.endsWith(']')) return undefined;
    const name = key.slice(PROPERTIES.length, -1);
    if (!plainName(name) || isDigits(name)) return undefined;
    if (!properties) {
      if (Object.hasOwn(out, 'properties')) return undefined;
      out.properties = properties = {};
    }
    if (Object.hasOwn(properties, name)) return undefined;
    properties[name] = value;
  }
  return out;
}

function isDigits(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return name.length > 0;
}
