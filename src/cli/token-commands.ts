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
  environments?: string[];
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
          list.map((t) => [t.id, t.name, t.kind, grantText(t), t.hint, t.createdAt.slice(0, 19).replace('T', ' '), t.createdBy]),
        ),
      );
    });

  tokens
    .command('create')
    .description('Create a token; its secret is printed once')
    .requiredOption('-k, --kind <kind>', 'admin, client (server SDKs), frontend (browser SDKs) or alert (monitoring systems)')
    .requiredOption('-n, --name <name>', 'who or what uses it')
    .option('-r, --role <role>', 'for admin tokens: viewer, editor, release-manager or admin')
    .option(
      '-e, --env <environment>',
      'for client and frontend tokens: the environment they serve; for alert tokens: an environment alerts may act in (repeat, or separate with commas)',
      (value: string, previous: string[] = []) => [
        ...previous,
        ...value
          .split(',')
          .map((v) => v.trim())
          .filter(Boolean),
      ],
    )
    .action(async (opts: { kind: string; name: string; role?: string; env?: string[] }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const envs = opts.env ?? [];
      if (opts.kind === 'admin' ? !opts.role : envs.length === 0) {
        throw new CliError(
          opts.kind === 'admin' ? 'an admin token needs --role' : `${opts.kind === 'alert' ? 'an' : 'a'} ${opts.kind} token needs --env`,
          EXIT.usage,
        );
      }
      if ((opts.kind === 'client' || opts.kind === 'frontend') && envs.length > 1)
        throw new CliError(`a ${opts.kind} token serves one environment: give one --env`, EXIT.usage);
      const grant = opts.kind === 'admin' ? { role: opts.role } : opts.kind === 'alert' ? { environments: envs } : { environment: envs[0] };
      const created = await ctx.client.call<PublicToken & { secret: string }>('POST', '/api/admin/tokens', { kind: opts.kind, name: opts.name, ...grant });
      if (ctx.json) return printJson(created);
      note(`Created ${created.kind} token ${created.id} (${grantText(created)}). Its secret is shown this once:`);
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

/** What a token grants, in a word or a list: its role, or its environments. */
function grantText(t: PublicToken): string {
  return t.role ?? t.environments?.join(',') ?? t.environment ?? '';
}
