import { z } from 'zod';

/**
 * The two rules for flag names.
 *
 * Written here (a PUT, a flag file, a policy, a rollout): NAME_PATTERN, plain letters, digits and
 * `_ . ~ -`, so a name reads the same in a URL, a YAML key, a log line and a terminal.
 *
 * Held and served (an Unleash import, the routes that address a stored flag): any name an Unleash
 * server can hand to SDKs, which includes any Unicode (the client specification's
 * `Feature.UTF-8.😊_φriend_你好_🌍`). Such a name is kept as it came; only what could not be
 * stored, addressed or shown safely is refused, each with its reason:
 * - more than STORED_NAME_MAX_CHARS characters (Unicode code points: Unleash keeps names in a
 *   255-character column), which bounds a name at STORED_NAME_MAX_BYTES bytes of UTF-8 (four a
 *   character at most), and every key built from it with it;
 * - control characters (U+0000–U+001F, U+007F–U+009F): they would end or rewrite a log or terminal line;
 * - a lone surrogate: it has no UTF-8 form, so no HTTP path or store could carry it;
 * - `.` and `..`: a URL path cannot name them (every HTTP client resolves them away);
 * - a name starting with RESERVED_NAME_PREFIX, where the controller counts a release's own outcomes
 *   and users beside its flags' (see releaseOutcomeKey): such a flag would share their counters.
 * Every storage key built from a name puts it between fixed parts whose own parts hold no `:`
 * (environment names cannot), so `:`, `/` or `@` in a name never make two keys meet.
 */

export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.~-]{0,99}$/;
export const flagNameSchema = z.string().regex(NAME_PATTERN, 'a flag name: letters, digits and _ . ~ - (at most 100)');

export const STORED_NAME_MAX_CHARS = 255;
/** What STORED_NAME_MAX_CHARS characters take at most in UTF-8 (and in UTF-16 code units). */
export const STORED_NAME_MAX_BYTES = 4 * STORED_NAME_MAX_CHARS;
/** Where release outcomes are counted (outcome and user-sample keys); no stored flag name starts so. */
export const RESERVED_NAME_PREFIX = '@release.';

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why a name cannot be held, or undefined when it can. */
export function storedNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'a flag name cannot be empty';
  if (LONE_SURROGATE.test(name)) return 'a flag name must be well-formed Unicode (it holds a lone surrogate)';
  const chars = [...name].length;
  if (chars > STORED_NAME_MAX_CHARS) return `a flag name has at most ${STORED_NAME_MAX_CHARS} characters (this one has ${chars})`;
  if (CONTROL.test(name)) return 'a flag name cannot hold control characters';
  if (name === '.' || name === '..') return `a flag name cannot be "${name}": no URL path can name it`;
  if (name.startsWith(RESERVED_NAME_PREFIX)) return `a flag name cannot start with "${RESERVED_NAME_PREFIX}": the controller counts release outcomes there`;
  return undefined;
}

/** A name as held and served: see storedNameProblem. The length bound comes first, so no long input is walked. */
export const storedFlagNameSchema = z
  .string()
  .max(STORED_NAME_MAX_BYTES, { message: `a flag name has at most ${STORED_NAME_MAX_CHARS} characters`, abort: true })
  .superRefine((name, ctx) => {
    const problem = storedNameProblem(name);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
