import type { AttemptResult } from '../retry-policy.js';

/**
 * DingTalk, Feishu and WeCom answer HTTP 200 whatever happened and say in the body whether the
 * message was taken: `{errcode, errmsg}` (DingTalk, WeCom) or `{code, msg}` (Feishu; older bots
 * `{StatusCode, StatusMessage}`), 0 meaning taken. A refusal (a wrong signature, a stale timestamp,
 * a removed robot) is for good; being over the robot's rate limit is for now, and retried.
 */

/** Codes that mean "too many messages, try later": DingTalk's, Feishu's and WeCom's rate limits, and WeCom's "system busy". */
const TEMPORARY = new Set([130101, 11232, 230020, 45009, -1]);

/** How much of an answer is read: enough for any of these bodies. */
export const MAX_ANSWER_BYTES = 4_096;

/** The verdict a robot's body gives, or undefined when it says nothing readable (the HTTP status decides then). */
export function vendorVerdict(vendor: string, body: string): Pick<AttemptResult, 'answer' | 'error'> | undefined {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const code = [parsed.errcode, parsed.code, parsed.StatusCode].find((c) => typeof c === 'number') as number | undefined;
  if (code === undefined) return undefined;
  if (code === 0) return { answer: 'accepted' };
  const message = [parsed.errmsg, parsed.msg, parsed.StatusMessage].find((m) => typeof m === 'string') as string | undefined;
  const error = `${vendor} answered code ${code}${message ? `: ${message.slice(0, 200)}` : ''}`;
  return TEMPORARY.has(code) ? { answer: 'unavailable', error } : { answer: 'refused', error };
}
