import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { contextOf } from './context.js';
import { CliError, EXIT } from './exit-codes.js';
import { emit, note, print, printJson } from './output.js';

interface RestoreAnswer {
  restored: { collections: Record<string, number>; auditEvents: number };
  restoreEventSeq: number;
  audit: { ok: boolean; count: number };
  target: { prefix?: string };
}

/**
 * rolloutctl backup export / backup restore: the admin API's export and import (admin role). A
 * command group, since `rolloutctl restore` already lifts a kill switch.
 */
export function registerBackupCommands(program: Command): void {
  const backup = program.command('backup').description('Export a whole deployment to a file, or restore one into an empty store (needs an admin-role token)');
  backup
    .command('export')
    .description('Export everything (flags, policies, rollouts, token metadata, webhooks, the audit log) to a JSON file; keep it as a secret')
    .requiredOption('-o, --output <file>', 'where to write the backup')
    .action(async (opts: { output: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const res = await ctx.client.text('/api/admin/backup');
      // Token hashes and webhook signing secrets are in it: readable by the owner only.
      await writeFile(opts.output, res.text, { mode: 0o600 });
      const written = JSON.parse(res.text) as { formatVersion: number; audit: { head: { seq: number } } };
      emit(
        ctx.json,
        { file: path.resolve(opts.output), bytes: Buffer.byteLength(res.text), formatVersion: written.formatVersion, auditEvents: written.audit.head.seq },
        () => `Wrote ${opts.output} (${Buffer.byteLength(res.text)} bytes, ${written.audit.head.seq} audit events).`,
      );
    });

  backup
    .command('restore')
    .description('Restore a backup into an empty store: on Redis, a fresh key prefix (--prefix) that the controllers are then pointed at')
    .requiredOption('-f, --file <file>', 'a file written by rolloutctl backup export')
    .option('--prefix <prefix>', 'the empty Redis key prefix to restore into')
    .action(async (opts: { file: string; prefix?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      let backup: unknown;
      try {
        backup = JSON.parse(await readFile(opts.file, 'utf8'));
      } catch (err) {
        throw new CliError(`cannot read ${opts.file}: ${(err as Error).message}`, EXIT.usage);
      }
      const query = opts.prefix ? `?prefix=${encodeURIComponent(opts.prefix)}` : '';
      const answer = await ctx.client.call<RestoreAnswer>('POST', `/api/admin/restore${query}`, backup);
      if (ctx.json) return printJson(answer);
      const docs = Object.entries(answer.restored.collections)
        .map(([name, n]) => `${n} ${name}`)
        .join(', ');
      note(`Restored ${docs} and ${answer.restored.auditEvents} audit events${answer.target.prefix ? ` under prefix ${answer.target.prefix}` : ''}.`);
      print(`Audit chain verified: ${answer.audit.count} events (the restore is event ${answer.restoreEventSeq}).`);
    });
}
