import { z } from 'zod';

/**
 * Where notification e-mails go out: the operator's SMTP server, set in the environment (never
 * through the API, so an admin cannot point the controller at a server of their choosing). Either
 * SMTP_URL (smtp://user:password@host:587, smtps://… for TLS from the first byte) or SMTP_HOST with
 * the variables beside it; SMTP_FROM in both cases. Unset: no e-mail webhooks can be saved.
 */

const optionalText = z
  .string()
  .min(1)
  .optional()
  .or(z.literal('').transform(() => undefined));

/** "rollouts@example.com" or "Rollouts <rollouts@example.com>". */
const sender = z
  .string()
  .trim()
  .refine(
    (v) => z.email().safeParse(/^[^<>]*<([^<>]+)>$/.exec(v)?.[1] ?? v).success,
    'an e-mail address, e.g. rollouts@example.com or "Rollouts <rollouts@example.com>"',
  );

export const smtpConfigShape = {
  SMTP_URL: z
    .string()
    .refine((v) => v === '' || (URL.canParse(v) && /^smtps?:$/.test(new URL(v).protocol) && new URL(v).hostname !== ''), {
      message: 'smtp://[user:password@]host[:port] or smtps://… (TLS from the first byte)',
    })
    .optional()
    .transform((v) => v || undefined),
  SMTP_HOST: optionalText,
  SMTP_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  /** TLS from the first byte (port 465); otherwise STARTTLS. */
  SMTP_SECURE: z.stringbool().optional(),
  SMTP_USER: optionalText,
  SMTP_PASSWORD: optionalText,
  SMTP_FROM: sender.optional().or(z.literal('').transform(() => undefined)),
  /** Refuse to send (or log in) over a connection STARTTLS did not encrypt. */
  SMTP_REQUIRE_TLS: z.stringbool().default(true),
  /** Check the server's certificate (turn off only for a relay with a self-signed one, inside your network). */
  SMTP_TLS_REJECT_UNAUTHORIZED: z.stringbool().default(true),
};

type SmtpConfig = z.infer<z.ZodObject<typeof smtpConfigShape>>;

export interface SmtpSettings {
  host: string;
  port: number;
  secure: boolean;
  auth?: { user: string; pass: string };
  from: string;
  requireTLS: boolean;
  rejectUnauthorized: boolean;
}

/** What is wrong with the SMTP variables taken together, naming the variable ("SMTP_FROM: required when …"); undefined when nothing is. */
export function smtpProblem(c: SmtpConfig): string | undefined {
  const configured = c.SMTP_URL ?? c.SMTP_HOST;
  const beside = (['SMTP_PORT', 'SMTP_SECURE', 'SMTP_USER', 'SMTP_PASSWORD'] as const).filter((k) => c[k] !== undefined);
  if (c.SMTP_URL && c.SMTP_HOST) return 'SMTP_URL: give SMTP_URL or SMTP_HOST, not both';
  if (c.SMTP_URL && beside.length > 0) return `${beside[0]}: set with SMTP_HOST only; with SMTP_URL, put it in the URL`;
  if (!configured) {
    const stray = [...beside, ...(c.SMTP_FROM ? ['SMTP_FROM'] : [])][0];
    return stray ? `SMTP_HOST: ${stray} is set but neither SMTP_HOST nor SMTP_URL is` : undefined;
  }
  if (!c.SMTP_FROM) return 'SMTP_FROM: required when SMTP_URL or SMTP_HOST is set: the sender of notification e-mails, e.g. "Rollouts <rollouts@example.com>"';
  if (c.SMTP_USER && !c.SMTP_PASSWORD) return 'SMTP_PASSWORD: required with SMTP_USER';
  if (c.SMTP_PASSWORD && !c.SMTP_USER) return 'SMTP_USER: required with SMTP_PASSWORD';
  return undefined;
}

/** The SMTP server to send through, or undefined when none is configured. Call on a configuration smtpProblem passed. */
export function smtpSettingsOf(c: SmtpConfig): SmtpSettings | undefined {
  const common = { from: c.SMTP_FROM!, requireTLS: c.SMTP_REQUIRE_TLS, rejectUnauthorized: c.SMTP_TLS_REJECT_UNAUTHORIZED };
  if (c.SMTP_URL) {
    const url = new URL(c.SMTP_URL);
    const secure = url.protocol === 'smtps:';
    const user = decodeURIComponent(url.username);
    return {
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port ? Number(url.port) : secure ? 465 : 587,
      secure,
      ...(user ? { auth: { user, pass: decodeURIComponent(url.password) } } : {}),
      ...common,
    };
  }
  if (!c.SMTP_HOST) return undefined;
  const secure = c.SMTP_SECURE ?? c.SMTP_PORT === 465;
  return {
    host: c.SMTP_HOST,
    port: c.SMTP_PORT ?? (secure ? 465 : 587),
    secure,
    ...(c.SMTP_USER ? { auth: { user: c.SMTP_USER, pass: c.SMTP_PASSWORD! } } : {}),
    ...common,
  };
}
