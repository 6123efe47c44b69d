/** The webhook formats and how each is signed, without anything else, so the dashboard's bundle can offer them. */

export const WEBHOOK_FORMATS = ['json', 'slack', 'dingtalk', 'feishu', 'wecom', 'teams', 'email'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];
/** The formats delivered by an HTTP POST (all but e-mail). */
export type HttpFormat = Exclude<WebhookFormat, 'email'>;

/**
 * How each format proves a message came from us, as its receiver checks it:
 * - `rollout`: X-Rollout-Signature, an HMAC with a secret the controller generates (or an admin gives);
 * - `vendor`: the vendor's own signature, with the secret the vendor shows (an admin must give it);
 * - `url`: none; the credential is the URL itself (WeCom's `key`, a Teams workflow's `sig`);
 * - `none`: e-mail, which goes through the SMTP server the operator configured.
 */
export const SIGNING: Record<WebhookFormat, 'rollout' | 'vendor' | 'url' | 'none'> = {
  json: 'rollout',
  slack: 'rollout',
  dingtalk: 'vendor',
  feishu: 'vendor',
  wecom: 'url',
  teams: 'url',
  email: 'none',
};
