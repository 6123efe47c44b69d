import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config/config.js';
import { startController } from './controller.js';
import { createLogger } from './logger.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
    // The one command-line option; everything else is configured with environment variables.
    const { values } = parseArgs({ args: process.argv.slice(2), options: { repair: { type: 'boolean' } } });
    if (values.repair) config.EMBEDDED_REPAIR = true;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    if ((err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${(err as Error).message}; usage: controller [--repair] (everything else is set with environment variables, docs/operations.md)\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.LOG_LEVEL);
  const controller = await startController(config, logger);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      controller.stop().then(
        () => process.exit(0),
        (err) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}

main().catch((err) => {
  process.stderr.write(`failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
