import { Command, CommanderError } from 'commander';
import { registerApply } from './apply-command.js';
import { registerExport } from './export-command.js';
import { CliError, EXIT, EXIT_CODES_HELP } from './exit-codes.js';
import { registerRolloutCommands } from './rollout-commands.js';
import { registerTokenCommands } from './token-commands.js';
import { registerBackupCommands } from './backup-commands.js';
import { registerDrillCommands } from './drill-command.js';
import { registerWebhookCommands } from './webhook-commands.js';
import { DEFAULT_URL } from './context.js';
import { terminalSafe } from './output.js';

/** rolloutctl: the admin API from a terminal or a script. */
export function buildProgram(): Command {
  const program = new Command('rolloutctl')
    .description(
      'Drive the rollout controller: apply flags and policies, export flags, watch and steer rollouts, kill switches, drills, reports, tokens, webhooks',
    )
    .option('--url <url>', `controller URL (default: $CONTROLLER_URL, else ${DEFAULT_URL})`)
    .option('--token <token>', 'admin token (default: $ROLLOUT_TOKEN; prefer the variable, arguments show in ps)')
    .option('--json', 'machine-readable JSON on stdout')
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      `
Environment:
  CONTROLLER_URL       the controller, e.g. http://localhost:4242
  ROLLOUT_TOKEN        an admin token; its role decides what you may do
  YAML_FILE_MAX_BYTES  the largest file apply and export read (default 1048576, as the controller)

${EXIT_CODES_HELP}`,
    )
    // Usage errors and --help end through run()'s exit path; subcommands inherit this when created.
    .exitOverride();
  registerApply(program);
  registerExport(program);
  registerRolloutCommands(program);
  registerTokenCommands(program);
  registerBackupCommands(program);
  registerDrillCommands(program);
  registerWebhookCommands(program);
  return program;
}

export async function run(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed the help or the usage error.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof CliError) {
      const json = program.opts<{ json?: boolean }>().json || argv.includes('--json');
      if (json) {
        const body = {
          error: err.message,
          exitCode: err.exitCode,
          ...(err.status ? { status: err.status } : {}),
          ...(err.details.length ? { details: err.details } : {}),
        };
        process.stderr.write(`${JSON.stringify(body)}\n`);
      } else process.stderr.write([...err.details, `error: ${err.message}`].map((l) => `${terminalSafe(l)}\n`).join(''));
      return err.exitCode;
    }
    process.stderr.write(`error: ${(err as Error).stack ?? String(err)}\n`);
    return EXIT.usage;
  }
}

process.exitCode = await run(process.argv);
