import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../config/config.js';
import { AppError } from '../../errors/app-error.js';
import { durationSchema } from '../../policies/durations.js';
import { policySchema, type Policy } from '../../policies/policy-schema.js';
import { parsePolicyFile, POLICIES } from '../../policies/policy-service.js';
import { openStoreReader } from '../../store/index.js';
import type { StoreReader } from '../../store/port.js';
import { renderReplayReport, type ReplayReport } from './replay-report.js';
import { DEFAULT_REPLAY_LIMIT, MAX_REPLAY_LIMIT, replayStored, selectRollouts, type ReplayResult, type ReplaySelection } from './replay-run.js';

/** `npm run simulate -- --replay`: options as parsed by main.ts. */
export interface ReplayOptions {
  policy?: string;
  flag?: string;
  environment?: string;
  since?: string;
  limit?: string;
  out?: string;
}

/** A bad option, said in one line that names it. */
function invalidOption(message: string): AppError {
  return new AppError('invalid', 'invalid_option', message);
}

/** "2030-01-07", "2030-01-07T09:00:00Z" or a duration back from now ("7d", "12h"). */
export function parseSince(value: string, now: number): number {
  if (/^\d+(\.\d+)?(ms|s|m|h|d)$/.test(value)) return now - durationSchema.parse(value);
  const at = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(at))
    throw invalidOption(`--since ${value}: a date (2030-01-07), a date and time (2030-01-07T09:00:00Z) or a duration back from now (7d, 12h)`);
  return at;
}

export function parseLimit(value: string | undefined): number {
  if (value === undefined) return DEFAULT_REPLAY_LIMIT;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_REPLAY_LIMIT) throw invalidOption(`--limit ${value}: a whole number from 1 to ${MAX_REPLAY_LIMIT}`);
  return n;
}

/** The policy to replay under: a policy file, else the policy stored under that name; undefined: each rollout's own plan. */
async function resolvePolicy(reader: StoreReader, value: string | undefined): Promise<{ policy?: Policy; label: string }> {
  if (value === undefined) return { label: 'each rollout’s own plan (the policy it ran under, as it was when it started)' };
  if (existsSync(value)) return { policy: parsePolicyFile(value, readFileSync(value, 'utf8')).policy, label: `\`${value}\`` };
  const stored = await reader.get<Policy>(POLICIES, value);
  if (stored) return { policy: policySchema.parse(stored.value), label: `\`${value}\` as stored` };
  const names = (await reader.list<Policy>(POLICIES)).map((d) => d.id);
  throw invalidOption(`--policy ${value}: neither a policy file nor a policy stored under that name (stored: ${names.join(', ') || 'none'})`);
}

/** Reads, replays and reports; the exit code is 1 when nothing could be replayed. */
export async function runReplay(options: ReplayOptions, argv: string[]): Promise<number> {
  const now = Date.now();
  const selection: ReplaySelection = {
    ...(options.flag !== undefined ? { flag: options.flag } : {}),
    ...(options.environment !== undefined ? { environment: options.environment } : {}),
    ...(options.since !== undefined ? { since: parseSince(options.since, now) } : {}),
    limit: parseLimit(options.limit),
  };
  const config = loadConfig(process.env);
  const reader = await openStoreReader({ redisUrl: config.REDIS_URL, dataDir: config.DATA_DIR, prefix: config.REDIS_PREFIX });
  const store = reader.kind === 'redis' ? `redis (prefix ${config.REDIS_PREFIX})` : `embedded (${config.DATA_DIR})`;
  try {
    const { policy, label } = await resolvePolicy(reader, options.policy);
    const rollouts = await selectRollouts(reader, selection);
    if (rollouts.length === 0) {
      process.stderr.write(
        `no stored rollouts match (${store}${options.flag ? `, flag ${options.flag}` : ''}${options.environment ? `, environment ${options.environment}` : ''})\n`,
      );
      return 1;
    }
    const results: ReplayResult[] = [];
    for (const real of rollouts) {
      const result = await replayStored(reader, real, policy ?? real.plan, { outcomeBucketMs: config.OUTCOME_BUCKET_MS, now });
      results.push(result);
      const said = result.kind === 'refused' ? `not replayed: ${result.reason}` : result.outcome.ending.replace('_', ' ');
      process.stderr.write(`${real.id} (${real.flag} in ${real.environment}): ${said}\n`);
    }
    const report: ReplayReport = {
      generatedAt: new Date(now).toISOString(),
      command: `npm run simulate -- ${argv.join(' ')}`,
      store,
      policy: label,
      outcomeBucketMs: config.OUTCOME_BUCKET_MS,
      results,
    };
    const md = renderReplayReport(report);
    if (options.out) {
      mkdirSync(path.dirname(options.out), { recursive: true });
      writeFileSync(`${options.out}.md`, md);
      writeFileSync(`${options.out}.json`, JSON.stringify(report, null, 2));
      process.stderr.write(`wrote ${options.out}.md and ${options.out}.json\n`);
    } else process.stdout.write(md);
    return results.some((r) => r.kind === 'replayed') ? 0 : 1;
  } finally {
    await reader.close();
  }
}
