import type { Command } from 'commander';
import { contextOf } from './context.js';
import { CliError, EXIT } from './exit-codes.js';
import { emit, note, print, printJson, table } from './output.js';

interface PublicToken {
  id: string;
  name: string;
  kind: string;
  role?: string;
  environment?: string;
  hint: string;
  createdAt: string;
  createdBy: string;
}

export function registerTokenCommands(program: Command): void {
  const tokens = program.command('tokens').description('List, create and revoke API tokens (needs an admin-role token)');

  tokens
    .command('list')
    .description('Every token’s metadata (secrets are never shown)')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const { tokens: list } = await ctx.client.call<{ tokens: PublicToken[] }>('GET', '/api/admin/tokens');
      if (ctx.json) return printJson(list);
      print(
        table(
          ['ID', 'NAME', 'KIND', 'ROLE/ENV', 'STARTS WITH', 'CREATED', 'BY'],
          list.map((t) => [t.id, t.name, t.kind, t.role ?? t.environment ?? '', t.hint, t.createdAt.slice(0, 19).replace('T', ' '), t.createdBy]),
        ),
      );
    });

  tokens
    .command('create')
    .description('Create a token; its secret is printed once')
    .requiredOption('-k, --kind <kind>', 'admin, client (server SDKs) or frontend (browser SDKs)')
    .requiredOption('-n, --name <name>', 'who or what uses it')
    .option('-r, --role <role>', 'for admin tokens: viewer, editor, release-manager or admin')
    .option('-e, --env <environment>', 'for client and frontend tokens: the environment they serve')
    .action(async (opts: { kind: string; name: string; role?: string; env?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      if (opts.kind === 'admin' ? !opts.role : !opts.env) {
        throw new CliError(opts.kind === 'admin' ? 'an admin token needs --role' : `a ${opts.kind} token needs --env`, EXIT.usage);
      }
      const body = { kind: opts.kind, name: opts.name, ...(opts.kind === 'admin' ? { role: opts.role } : { environment: opts.env }) };
      const created = await ctx.client.call<PublicToken & { secret: string }>('POST', '/api/admin/tokens', body);
      if (ctx.json) return printJson(created);
      note(`Created ${created.kind} token ${created.id} (${created.role ?? created.environment}). Its secret is shown this once:`);
      // The new secret alone on stdout, so `rolloutctl tokens create … > file` captures exactly it.
      print(created.secret);
    });

  tokens
    .command('revoke')
    .description('Revoke a token on every replica')
    .argument('<id>', 'token id (see tokens list)')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      await ctx.client.call('DELETE', `/api/admin/tokens/${encodeURIComponent(id)}`);
      emit(ctx.json, { id, revoked: true }, () => `Revoked token ${id}.`);
    });
}
