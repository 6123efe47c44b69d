import { z } from 'zod';
import { redisUrlProblem } from '../store/redis-connection.js';
import { yamlFileMaxBytesSchema } from '../files/file-limits.js';
import { smtpConfigShape, smtpProblem } from '../notifications/smtp-config.js';
import { oidcConfigShape, oidcProblem } from '../people/oidc-config.js';

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** A size in bytes, written as bytes or with a unit: `262144`, `256kb`, `4mb` (units of 1,024). */
const byteSize = z
  .string()
  .regex(/^\d+(?:\.\d+)?\s*(?:b|kb|mb|gb)?$/i, 'a size such as 262144, 256kb or 4mb')
  .transform((text) => {
    const [, number, unit] = /^([\d.]+)\s*([a-z]*)$/i.exec(text)!;
    return Math.floor(Number(number) * BYTE_UNITS[unit!.toLowerCase()]!);
  })
  .pipe(z.number().int().min(1024, 'at least 1kb'));

/** Every environment variable the controller reads, validated once at start. */
export const configSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4242),
  HOST: z.string().default('0.0.0.0'),
  /** One server, a Sentinel set or a Cluster (forms in src/store/redis-connection.ts); unset: the embedded store. */
  REDIS_URL: z
    .string()
    .min(1)
    .superRefine((url, ctx) => {
      const problem = redisUrlProblem(url);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional()
    .or(z.literal('').transform(() => undefined)),
  /** Replicas that must confirm each write (Redis WAIT) before it is acknowledged; 0 = the primary's word is enough. */
  REDIS_WAIT_REPLICAS: z.coerce.number().int().min(0).max(100).default(0),
  /** How long a write waits for those confirmations before it fails with 503. */
  REDIS_WAIT_TIMEOUT_MS: z.coerce.number().int().min(1).max(60_000).default(1_000),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'letters, digits and _ . : -')
    .default('rollout'),
  DATA_DIR: z.string().min(1).default('./data'),
  /**
   * Open a damaged embedded store anyway (the controller's --repair does the same): keep every good
   * record, move each damaged file aside and record what was lost in the audit log. Without it, damage stops start-up.
   */
  EMBEDDED_REPAIR: z.stringbool().default(false),
  ADMIN_TOKEN: z
    .string()
    .min(16, 'at least 16 characters')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  FLAGS_DIR: z.string().min(1).default('./flags'),
  POLICIES_DIR: z.string().min(1).default('./policies'),
  /**
   * Declared environments (YAML: `environments: [{name, description?, owner?, rules?}]`).
   * Unset: environments.yaml inside POLICIES_DIR (see environmentsFilePath); a missing file declares nothing.
   */
  ENVIRONMENTS_FILE: z
    .string()
    .min(1)
    .optional()
    .or(z.literal('').transform(() => undefined)),
  /** The largest flag, policy or environments file read; a larger one is skipped with an error (see src/files/file-limits.ts). */
  YAML_FILE_MAX_BYTES: yamlFileMaxBytesSchema,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  STREAM_HEARTBEAT_MS: z.coerce.number().int().min(100).default(30_000),
  /** Outcome counters are kept per bucket of this size; gates and rollback rules read whole buckets. */
  OUTCOME_BUCKET_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  /** How often the leader looks for rollouts due for analysis. */
  ROLLOUT_TICK_MS: z.coerce.number().int().min(50).default(1_000),
  /** How long the leader's lease lasts without renewal: the time a successor waits after a leader dies. */
  LEADER_LEASE_MS: z.coerce.number().int().min(500).default(10_000),
  /** Names this replica in leases and logs (default: host name and process id). */
  REPLICA_ID: z.string().min(1).max(100).optional(),
  /** Frontend API and OFREP requests per second per token on one replica (bursts of twice that); 0 turns the limit off. */
  EVALUATION_RATE_LIMIT: z.coerce.number().int().min(0).default(1_000),
  /** How often exposures counted by server-side evaluation are written to the store. */
  EXPOSURE_FLUSH_MS: z.coerce.number().int().min(50).max(60_000).default(5_000),
  /** Webhook deliveries: attempts in all, the delay before the first retry (each later one is 3×, capped), and the time allowed per attempt. */
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(6),
  WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(10).default(3_000),
  WEBHOOK_RETRY_MAX_MS: z.coerce.number().int().min(10).default(300_000),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /**
   * Let webhooks reach loopback, private and link-local addresses. Off by default: a webhook URL must
   * not turn the controller into a way into the network it runs in (metadata endpoints, Redis).
   */
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: z.stringbool().default(false),
  /** How often each replica looks at the webhook outbox for retries and deliveries left by a replica that died. */
  WEBHOOK_POLL_MS: z.coerce.number().int().min(10).default(1_000),
  /**
   * Where people reach the dashboard, e.g. https://rollouts.example.com: every notification links
   * to its rollout or flag there. Unset: links are paths on the controller ("/#/rollouts/<id>") in
   * JSON payloads and left out of Slack messages. Trailing slashes are dropped.
   */
  PUBLIC_URL: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .url({ protocol: /^https?$/, error: 'an http:// or https:// URL, e.g. https://rollouts.example.com' })
      .refine((url) => URL.canParse(url) && !new URL(url).search && !new URL(url).hash, 'the dashboard’s base URL, without a ?query or #fragment')
      .transform((url) => url.replace(/\/+$/, ''))
      .optional(),
  ),
  /** Prometheus' base URL for PromQL gates; unset means such gates are inconclusive (they hold, never pass). */
  PROMETHEUS_URL: z
    .url({ protocol: /^https?$/, error: 'an http:// or https:// URL' })
    .optional()
    .or(z.literal('').transform(() => undefined)),
  /** Time allowed per Prometheus query; a slower answer is inconclusive. */
  PROMETHEUS_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(5_000),
  /**
   * Request limits (README, "Limits"). Body sizes per route family, checked against Content-Length
   * before anything is read and again while the body streams in, only once the token is known.
   */
  BODY_LIMIT_CLIENT: byteSize.default(256 * 1024),
  BODY_LIMIT_OUTCOMES: byteSize.default(1024 * 1024),
  BODY_LIMIT_EVALUATION: byteSize.default(64 * 1024),
  /** Alertmanager groups every alert of a group in one notification: room for about a thousand. */
  BODY_LIMIT_ALERTS: byteSize.default(1024 * 1024),
  BODY_LIMIT_ADMIN: byteSize.default(1024 * 1024),
  BODY_LIMIT_IMPORT: byteSize.default(16 * 1024 * 1024),
  BODY_LIMIT_RESTORE: byteSize.default(64 * 1024 * 1024),
  /** Time allowed to receive a request's headers, and the whole request (headers and body); Node's own defaults are 60 s and 300 s. */
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(300_000).default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(60_000),
  /** Open /api/client/streaming connections on one replica: per token, and in all. */
  STREAMS_PER_TOKEN: z.coerce.number().int().min(1).default(1_000),
  STREAMS_PER_REPLICA: z.coerce.number().int().min(1).default(10_000),
  /** Distinct SDK application names one replica records per environment and day (POST /api/client/register). */
  CLIENT_APPS_PER_ENVIRONMENT: z.coerce.number().int().min(1).default(1_000),
  /** The SMTP server for e-mail notifications (src/notifications/smtp-config.ts); unset: no e-mail. */
  ...smtpConfigShape,
  /** Sign-in with OpenID Connect for people (src/people/oidc-config.ts); unset: tokens only. */
  ...oidcConfigShape,
  /** When set, GET /metrics answers only requests that send it (bare or as a bearer token); unset, /metrics is open. */
  METRICS_TOKEN: z
    .string()
    .min(16, 'at least 16 characters')
    .optional()
    .or(z.literal('').transform(() => undefined)),
});

export type Config = z.infer<typeof configSchema>;

/** Node refuses a headers timeout longer than the request timeout; say so by name instead. */
function timeoutProblem(config: Config): string | undefined {
  if (config.HTTP_HEADERS_TIMEOUT_MS > config.HTTP_REQUEST_TIMEOUT_MS)
    return `HTTP_HEADERS_TIMEOUT_MS: ${config.HTTP_HEADERS_TIMEOUT_MS} is longer than HTTP_REQUEST_TIMEOUT_MS (${config.HTTP_REQUEST_TIMEOUT_MS})`;
  return undefined;
}

export class ConfigError extends Error {}

/** Parses the environment; the error names the variable and what was expected, in one line. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = configSchema.safeParse(env);
  if (parsed.success) {
    const problem = timeoutProblem(parsed.data) ?? smtpProblem(parsed.data) ?? oidcProblem(parsed.data);
    if (problem) throw new ConfigError(`invalid configuration: ${problem}`);
    return parsed.data;
  }
  const issue = parsed.error.issues[0]!;
  const variable = String(issue.path[0] ?? 'environment');
  throw new ConfigError(`invalid configuration: ${variable}: ${issue.message}`);
}
