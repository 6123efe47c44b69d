import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { DrillRecord } from '../propagation/drill-record.js';
import type { Propagation } from '../propagation/propagation.js';
import { contextOf } from './context.js';
import { CliError, EXIT } from './exit-codes.js';
import { emit, note, print, printJson, table } from './output.js';

/**
 * `rolloutctl drill`: a rollback drill (kill, wait for every SDK instance, restore), printed as the
 * Markdown report a change board files; and `rolloutctl propagation`: who holds a flag's state.
 */

type DrillAnswer = DrillRecord & { auditSeq?: number; report?: string };
type PropagationAnswer = Propagation & { flag: string; environment: string; killed: boolean };

/** The drill's own wait, plus time for the kill, the restore and the record. */
const ANSWER_SLACK_MS = 60_000;

function flagPath(flag: string, env: string, rest: string): string {
  return `/api/admin/flags/${encodeURIComponent(flag)}/environments/${encodeURIComponent(env)}/${rest}`;
}

function parseSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`invalid --timeout "${value}": a whole number of seconds, at least 1`, EXIT.usage);
  return n;
}

export function registerDrillCommands(program: Command): void {
  program
    .command('drill')
    .description('Rollback drill: kill the flag, wait until every connected SDK instance has the kill, restore it, and print the report')
    .argument('<flag>', 'flag name')
    .requiredOption('-e, --env <environment>', 'environment, e.g. staging')
    .option('-t, --timeout <seconds>', 'how long to wait for the SDK instances (default 60, at most 240)', parseSeconds)
    .option('-r, --reason <reason>', 'why (recorded in the audit log)', 'rollback drill')
    .option('-y, --yes', 'confirm a drill on a production environment (production, prod, production-…, prod-…)')
    .option('-o, --output <file>', 'also write the report to this file')
    .action(async (flag: string, opts: { env: string; timeout?: number; reason: string; yes?: boolean; output?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const body = { reason: opts.reason, ...(opts.timeout ? { timeoutSeconds: opts.timeout } : {}), ...(opts.yes ? { confirm: true } : {}) };
      if (!ctx.json) note(`drilling ${flag} in ${opts.env}: killing it, then waiting for the SDK instances (at most ${opts.timeout ?? 60} s)…`);
      const waitMs = (opts.timeout ?? 60) * 1000 + ANSWER_SLACK_MS;
      const record = await ctx.client.call<DrillAnswer>('POST', flagPath(flag, opts.env, 'drill'), body, undefined, waitMs);
      const report = record.report ? (await ctx.client.text(record.report)).text : undefined;
      if (opts.output && report) await writeFile(opts.output, report);
      if (ctx.json) printJson(record);
      else print(report ?? `${record.confirmed} of ${record.instances} SDK instances had the kill; ${record.restore.restored ? 'restored' : 'NOT restored'}`);
      const verified = record.instances > 0 && record.confirmed === record.instances && record.restore.restored;
      if (!verified) {
        const why = record.restore.restored
          ? `${record.instances - record.confirmed} of ${record.instances} SDK instances never had the kill`
          : record.restore.why;
        throw new CliError(`the drill was not verified: ${why}`, EXIT.unverified);
      }
    });

  program
    .command('propagation')
    .description('How many of the SDK instances connected to an environment hold a flag’s current state, and which do not yet')
    .argument('<flag>', 'flag name')
    .requiredOption('-e, --env <environment>', 'environment, e.g. production')
    .action(async (flag: string, opts: { env: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const p = await ctx.client.call<PropagationAnswer>('GET', flagPath(flag, opts.env, 'propagation'));
      emit(ctx.json, p, () => {
        const head = `${flag} in ${opts.env}${p.killed ? ' (killed)' : ''}: ${p.confirmed} of ${p.instances} SDK instances hold its current state (revision ${p.version})`;
        const last = p.lastConfirmedAt ? `; the last got it ${p.lastConfirmedAt}` : '';
        if (p.pending.length === 0) return `${head}${last}`;
        const rows = p.pending.map((i) => [i.appName ?? '(unknown)', i.instanceId ?? `#${i.instance}`, i.lastSeenAt]);
        const more = p.pendingNotListed > 0 ? `\n…and ${p.pendingNotListed} more` : '';
        return `${head}${last}\n\nPending:\n${table(['APP', 'INSTANCE', 'LAST SEEN'], rows)}${more}`;
      });
    });
}
