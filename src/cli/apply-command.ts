import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { contextOf, yamlFileMaxBytes } from './context.js';
import { CliError, EXIT } from './exit-codes.js';
import { readLocalFiles } from './local-files.js';
import { applyPlan, formatPlan, pending, planApply, refusals, type PlannedChange } from './apply-plan.js';
import { note, print, printJson } from './output.js';

async function confirmed(count: number): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`Apply ${count} change(s)? [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** Only what a script needs of each change (the full definitions are in the files it applied). */
const summary = (c: PlannedChange) => ({
  kind: c.kind,
  name: c.name,
  file: c.file,
  action: c.action,
  changes: c.changes,
  ...(c.kind === 'flag' && c.refused.length ? { refused: c.refused } : {}),
  ...(c.kind === 'flag' && c.forced.length ? { forced: c.forced } : {}),
});

export function registerApply(program: Command): void {
  program
    .command('apply')
    .description('Validate flag, policy and environments YAML files, show a per-field diff against the controller, then apply them')
    .requiredOption(
      '-f, --file <path...>',
      'a YAML file or a directory (its *.yaml, and those in its flags/ and policies/; environments.yaml is the environments file)',
    )
    .option('--dry-run', 'validate and show the diff, change nothing')
    .option('-y, --yes', 'apply without asking (needed when stdin is not a terminal)')
    .option('--force', 'apply flag changes even where they change the percentage a running or completed rollout set (the audit log records it)')
    .addHelpText(
      'after',
      `
Files are validated with the controller's own schemas; every problem of every invalid file is
reported, one line each, as "file: field.path: problem" (at most 20 a file, then how many more),
and nothing at all is applied (exit code 1).
Flags are written with PUT /api/admin/flags/{name} and If-Match (a flag changed on the server since
the diff fails with exit code 2); kill switches are never touched. A flag change that would set
a percentage other than the one a running or completed rollout set (e.g. an old file saying 0%
after a rollout reached 100%) is shown as "refused unless --force": then nothing at all is applied
(exit code 2, also with --dry-run) unless --force. Policies with
PUT /api/admin/policies/{name}: with an editor's token each becomes a proposal an admin accepts.
Environments (admins only) with PUT /api/admin/environments/{name}, first. Segments in flag files are upserted through the import route first
(the admin API cannot read segments back, so they are always shown as "upsert").`,
    )
    .action(async (opts: { file: string[]; dryRun?: boolean; yes?: boolean; force?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const { files, errors } = await readLocalFiles(opts.file, yamlFileMaxBytes());
      if (errors.length) {
        // Every problem of every file (at most 20 a file; `unlisted` counts the rest of one).
        if (ctx.json) {
          const unlisted = errors.filter((e) => e.unlisted > 0).map((e) => ({ file: e.file, count: e.unlisted }));
          printJson({
            valid: false,
            errors: errors.flatMap((e) => e.problems.map((p) => ({ file: e.file, field: p.fieldPath, problem: p.problem }))),
            ...(unlisted.length ? { unlisted } : {}),
          });
        }
        const invalid = new Set(errors.map((e) => e.file)).size;
        throw new CliError(
          `${invalid} invalid file(s); nothing was applied`,
          EXIT.usage,
          errors.flatMap((e) => e.lines()),
        );
      }
      const plan = await planApply(ctx.client, files, opts.force === true);
      const todo = pending(plan);
      if (!ctx.json) print(formatPlan(plan));
      const refused = refusals(plan);
      if (refused.length) {
        // All or nothing: the other changes of the files may belong with the refused one.
        if (ctx.json) printJson({ valid: true, dryRun: opts.dryRun === true, changes: plan.map(summary), applied: [] });
        throw new CliError(`${refused.length} flag change(s) would undo what a rollout set; nothing was applied (pass --force to apply anyway)`, EXIT.refused);
      }
      const proceed = todo.length > 0 && !opts.dryRun && (opts.yes || (await askOrRefuse(todo.length)));
      const applied: PlannedChange[] = [];
      const proposed: Array<{ change: PlannedChange; proposal: string }> = [];
      if (proceed) {
        await applyPlan(ctx.client, plan, (c, proposal) => {
          if (proposal) proposed.push({ change: c, proposal });
          else applied.push(c);
          if (!ctx.json)
            note(
              proposal
                ? `proposed ${c.kind} ${c.name} (proposal ${proposal}: an admin accepts it with POST /api/admin/policy-proposals/${proposal}/accept)`
                : `applied ${c.kind} ${c.name}`,
            );
        });
      }
      if (ctx.json) {
        printJson({
          valid: true,
          dryRun: opts.dryRun === true,
          changes: plan.map(summary),
          applied: applied.map((c) => `${c.kind}:${c.name}`),
          ...(proposed.length ? { proposed: proposed.map((p) => ({ change: `${p.change.kind}:${p.change.name}`, proposal: p.proposal })) } : {}),
        });
      }
    });
}

async function askOrRefuse(count: number): Promise<boolean> {
  if (!process.stdin.isTTY)
    throw new CliError('stdin is not a terminal: pass --yes to apply without confirmation, or --dry-run to only see the diff', EXIT.usage);
  if (!(await confirmed(count))) throw new CliError('not confirmed; nothing was applied', EXIT.usage);
  return true;
}
