import { writeFile } from 'node:fs/promises';
import { REPORT_LANGUAGES } from '../reports/report-language.js';
import path from 'node:path';
import type { Command } from 'commander';
import { isFinal, type Rollout } from '../rollouts/rollout-model.js';
import { stateWords } from '../reports/go-live-report.js';
import { apiError, type AdminClient, type ApiResponse } from './admin-client.js';
import type { Preflight } from '../rollouts/preflight.js';
import { preflightLines } from '../rollouts/preflight-text.js';
import { contextOf } from './context.js';
import { CliError, EXIT } from './exit-codes.js';
import { emit, note, print, printJson } from './output.js';
import { historyText, progressBar, statusEntries, statusOf, statusTable, waitingText } from './status-view.js';
import type { RolloutView } from '../rollouts/rollout-views.js';

const COMMANDS = {
  reject: 'Reject the pending step: the rollout pauses for a person',
  pause: 'Hold the rollout (rollback rules keep being checked)',
  resume: 'Resume a paused rollout; the step restarts its clock',
  abort: 'Stop the rollout for good and return its strategy to 0%',
} as const;

interface StartOptions {
  env: string;
  policy: string;
  at?: string;
  notBefore?: string[];
  restore?: string;
  force?: boolean;
}

/** "100=2026-01-18T10:00:00+08:00" pairs as the API's notBefore; a pair without "=" is a usage error naming it. */
function notBeforeOption(pairs: string[]): Record<string, string> {
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new CliError(`--not-before: expected <step percentage>=<time>, got "${pair}"`, EXIT.usage);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

/**
 * A rollout by its id or by the start of it (status shows the first 8 characters): a prefix must
 * name exactly one rollout.
 */
export async function resolveRollout(client: AdminClient, idOrPrefix: string): Promise<RolloutView> {
  const exact = await client.find<RolloutView>(`/api/admin/rollouts/${encodeURIComponent(idOrPrefix)}`);
  if (exact) return exact.value;
  const { rollouts } = await client.call<{ rollouts: RolloutView[] }>('GET', '/api/admin/rollouts');
  const matches = rollouts.filter((r) => r.id.startsWith(idOrPrefix));
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) throw new CliError(`no rollout "${idOrPrefix}"`, EXIT.refused, [], 404);
  throw new CliError(`"${idOrPrefix}" names ${matches.length} rollouts: give more of the id`, EXIT.usage);
}

function rolloutLine(r: Rollout & Partial<Pick<RolloutView, 'status'>>): string {
  const status = statusOf(r, new Date());
  const waiting = isFinal(r.state) ? '' : ` (waiting for ${waitingText(status)})`;
  const ended = status.ended?.causeText ? `\ncause: ${status.ended.causeText}` : '';
  return `${r.flag} in ${r.environment} [${r.id}]: ${stateWords(r.state)}, ${status.served.text}${waiting}\n${progressBar(r)}${ended}`;
}

/**
 * A refused start as apiError words it; a baseline that already fails a gate gets one line per gate
 * on stderr and the option that starts anyway.
 */
function startRefusal(res: ApiResponse): CliError {
  const error = apiError('POST', '/api/admin/rollouts', res);
  let body: { error?: string; details?: { violations?: Array<{ text: string }> } } = {};
  try {
    body = JSON.parse(res.text);
  } catch {
    return error;
  }
  if (body.error !== 'baseline_above_gate') return error;
  const lines = (body.details?.violations ?? []).map((v) => `failing on the baseline: ${v.text}`);
  return new CliError(
    "the flag's baseline (its traffic without the feature) already fails the policy's gates, before anyone gets the feature; " +
      'fix it or the policy, or start anyway with --force (recorded as a warning)',
    error.exitCode,
    lines,
    res.status,
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function registerRolloutCommands(program: Command): void {
  program
    .command('status')
    .description('Rollouts with a progress bar per rollout, gate verdicts and what each waits for')
    .option('-a, --all', 'include completed, rolled-back and aborted rollouts')
    .option('-w, --watch', 'refresh until interrupted (Ctrl-C)')
    .option('--interval <seconds>', 'refresh interval with --watch', '2')
    .action(async (opts: { all?: boolean; watch?: boolean; interval: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const interval = Number(opts.interval);
      if (!(interval >= 0.2)) throw new CliError(`--interval: expected a number of seconds (at least 0.2), got "${opts.interval}"`, EXIT.usage);
      const all = opts.all === true;
      for (;;) {
        const { rollouts } = await ctx.client.call<{ rollouts: Rollout[] }>('GET', '/api/admin/rollouts');
        const now = new Date();
        if (ctx.json) {
          // One JSON document per refresh; with --watch, one per line so a script can read them as they come.
          const doc = { at: now.toISOString(), rollouts: statusEntries(rollouts, now, all) };
          process.stdout.write(opts.watch ? `${JSON.stringify(doc)}\n` : `${JSON.stringify(doc, null, 2)}\n`);
        } else {
          if (opts.watch && process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H');
          print(statusTable(rollouts, now, all));
          if (opts.watch) print(`\n${now.toISOString().slice(11, 19)}Z, every ${interval}s; Ctrl-C to stop`);
        }
        if (!opts.watch) return;
        await sleep(interval * 1000);
      }
    });

  /** What `start` and `release` share: when to start, not-before times, a restore, force. */
  const startOptions = (command: Command) =>
    command
      .requiredOption('-e, --env <environment>', 'environment, e.g. production')
      .requiredOption('-p, --policy <policy>', 'rollout policy, e.g. standard')
      .option('--at <time>', 'start at this time (ISO 8601 with its offset, e.g. 2026-01-17T14:00:00+08:00): scheduled until then')
      .option('--not-before <step=time...>', 'hold a step until a time, e.g. 100=2026-01-18T10:00:00+08:00 (repeatable)')
      .option('--restore <reason>', 'the flag is killed in the environment: clear its kill switch as the rollout starts, for this reason (recorded)')
      .option('--force', "start even when the baseline already fails one of the policy's gates (recorded as a warning)");
  const startBody = (opts: StartOptions) => ({
    environment: opts.env,
    policy: opts.policy,
    ...(opts.at ? { startAt: opts.at } : {}),
    ...(opts.notBefore ? { notBefore: notBeforeOption(opts.notBefore) } : {}),
    ...(opts.restore === undefined ? {} : { restore: true, reason: opts.restore }),
    ...(opts.force ? { force: true } : {}),
  });
  const started = (ctx: ReturnType<typeof contextOf>, res: ApiResponse) => {
    if (res.status >= 400) throw startRefusal(res);
    const rollout = JSON.parse(res.text) as RolloutView & { preflight?: Preflight };
    const verb = rollout.state === 'scheduled' ? `Scheduled for ${rollout.startAt}:` : 'Started';
    emit(ctx.json, rollout, () => [`${verb} ${rolloutLine(rollout)}`, ...(rollout.preflight ? preflightLines(rollout.preflight) : [])].join('\n'));
  };

  startOptions(
    program
      .command('start')
      .description('Start (or schedule, with --at) a rollout of a flag in an environment, following a policy')
      .argument('<flag>', 'flag name'),
  ).action(async (flag: string, opts: StartOptions, cmd: Command) => {
    const ctx = contextOf(cmd);
    started(ctx, await ctx.client.send('POST', '/api/admin/rollouts', { flag, ...startBody(opts) }));
  });

  startOptions(
    program
      .command('release')
      .description('Start (or schedule) a release: several flags ramped as one, with one cohort, one set of approvals and one kill')
      .argument('<name>', 'release name')
      .requiredOption('-f, --flags <flags>', 'the flags, comma-separated'),
  ).action(async (name: string, opts: StartOptions & { flags: string }, cmd: Command) => {
    const ctx = contextOf(cmd);
    const flags = opts.flags
      .split(',')
      .map((f) => f.trim())
      .filter(Boolean);
    started(ctx, await ctx.client.send('POST', '/api/admin/releases', { name, flags, ...startBody(opts) }));
  });

  program
    .command('approve')
    .description('Approve the step the rollout awaits approval for (not by whoever started it); --step names it, so a repeat never approves another step')
    .argument('<id>', 'rollout id, or its first characters')
    .option('-m, --comment <text>', 'comment recorded with the approval (in the history and the audit log)')
    .option('-s, --step <percentage>', 'the step to approve, by its percentage (default: the one awaiting approval now)')
    .option('--ahead', 'approve a later step in advance (needs --step)')
    .action(async (id: string, opts: { comment?: string; step?: string; ahead?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const rollout = await resolveRollout(ctx.client, id);
      const step = opts.step === undefined ? statusOf(rollout, new Date()).awaitingStep : Number(opts.step.replace(/%$/, ''));
      if (step === null)
        throw new CliError(
          `nothing to approve: ${rollout.flag} in ${rollout.environment} is ${stateWords(rollout.state)} and awaits no approval ` +
            '(approve a later step in advance with --step <percentage> --ahead)',
          EXIT.refused,
          [],
          409,
        );
      if (!(step > 0 && step <= 100)) throw new CliError(`--step: expected a step's percentage such as 10, got "${opts.step}"`, EXIT.usage);
      if (opts.ahead && opts.step === undefined) throw new CliError('--ahead needs --step <percentage>', EXIT.usage);
      const body = { step, ...(opts.ahead ? { ahead: true } : {}), ...(opts.comment ? { comment: opts.comment } : {}) };
      const after = await ctx.client.call<RolloutView & { approval: { at: string; by: { name: string } } }>(
        'POST',
        `/api/admin/rollouts/${rollout.id}/approve`,
        body,
      );
      emit(ctx.json, after, () => `approved the ${step}% step (${after.approval.by.name}, ${after.approval.at}): ${rolloutLine(after)}`);
    });

  for (const [command, description] of Object.entries(COMMANDS)) {
    program
      .command(command)
      .description(description)
      .argument('<id>', 'rollout id, or its first characters')
      .option('-m, --comment <text>', 'comment recorded with the action (in the history and the audit log)')
      .action(async (id: string, opts: { comment?: string }, cmd: Command) => {
        const ctx = contextOf(cmd);
        const rollout = await resolveRollout(ctx.client, id);
        const after = await ctx.client.call<RolloutView>('POST', `/api/admin/rollouts/${rollout.id}/${command}`, opts.comment ? { comment: opts.comment } : {});
        emit(ctx.json, after, () => `${command}: ${rolloutLine(after)}`);
      });
  }

  for (const action of ['kill', 'restore'] as const) {
    program
      .command(action)
      .description(action === 'kill' ? 'Kill switch: serve the flag disabled in an environment at once' : 'Undo the kill switch in an environment')
      .argument('<flag>', 'flag name')
      .requiredOption('-e, --env <environment>', 'environment, e.g. production')
      .requiredOption('-r, --reason <reason>', 'why (recorded in the audit log)')
      .action(async (flag: string, opts: { env: string; reason: string }, cmd: Command) => {
        const ctx = contextOf(cmd);
        const result = await ctx.client.call<{ killed: boolean; changed: boolean }>(
          'POST',
          `/api/admin/flags/${encodeURIComponent(flag)}/environments/${encodeURIComponent(opts.env)}/${action}`,
          { reason: opts.reason },
        );
        emit(
          ctx.json,
          result,
          () => `${flag} in ${opts.env}: ${result.killed ? 'killed (served disabled)' : 'restored'}${result.changed ? '' : ' (it already was)'}`,
        );
      });
  }

  program
    .command('history')
    .description('A rollout’s transitions with the gate values, samples and approvals behind each')
    .argument('<id>', 'rollout id, or its first characters')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const rollout = await resolveRollout(ctx.client, id);
      emit(ctx.json, { id: rollout.id, flag: rollout.flag, environment: rollout.environment, state: rollout.state, history: rollout.history }, () =>
        historyText(rollout),
      );
    });

  program
    .command('report')
    .description('The go-live report of a rollout (Markdown or self-contained HTML), for a change board')
    .argument('<id>', 'rollout id, or its first characters')
    .option('--format <format>', 'md or html (default: from the -o file’s extension, else md)')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .option('--lang <language>', `the report's language: ${REPORT_LANGUAGES.join(' or ')}`, 'en')
    .action(async (id: string, opts: { format?: string; output?: string; lang: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const format = opts.format ?? (opts.output && /\.html?$/i.test(opts.output) ? 'html' : 'md');
      if (format !== 'md' && format !== 'html') throw new CliError(`--format: expected md or html, got "${format}"`, EXIT.usage);
      if (!(REPORT_LANGUAGES as readonly string[]).includes(opts.lang))
        throw new CliError(`--lang: expected ${REPORT_LANGUAGES.join(' or ')}, got "${opts.lang}"`, EXIT.usage);
      const rollout = await resolveRollout(ctx.client, id);
      const res = await ctx.client.text(`/api/admin/rollouts/${rollout.id}/report?format=${format}&lang=${opts.lang}`);
      if (!opts.output) {
        process.stdout.write(res.text);
        return;
      }
      await writeFile(opts.output, res.text);
      if (ctx.json) printJson({ id: rollout.id, format, file: path.resolve(opts.output), bytes: Buffer.byteLength(res.text) });
      else note(`wrote the ${format === 'md' ? 'Markdown' : 'HTML'} go-live report of ${rollout.flag} in ${rollout.environment} to ${opts.output}`);
    });
}
