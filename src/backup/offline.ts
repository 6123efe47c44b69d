import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/config.js';
import { openStore } from '../store/index.js';
import type { Store } from '../store/port.js';
import { AppError } from '../errors/app-error.js';
import type { Actor } from '../audit/chain.js';
import { VERSION } from '../controller.js';
import { backupJson, readSnapshot } from './export-backup.js';
import { parseBackup, restoreBackup } from './restore-backup.js';
import { assertJsonDepth } from '../validation/json-depth.js';
import { restoreEndingLoss } from '../store-loss/accept-loss.js';

/**
 * `npm run backup -- -o file` and `npm run restore -- -f file`: the same export and import as the
 * admin routes, straight on the store the environment names (REDIS_URL, REDIS_PREFIX, DATA_DIR),
 * for when no controller runs: restoring an embedded store before its first start, or taking a
 * backup of a deployment whose controllers are down. The embedded store's lock keeps this from
 * running beside a controller on the same directory.
 */
const OFFLINE: Actor = { type: 'system', id: 'offline', name: 'npm run restore' };

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({ args: rest, options: { output: { type: 'string', short: 'o' }, file: { type: 'string', short: 'f' } } });
  if (command === 'backup' && values.output) return withStore((store) => backup(store, values.output!));
  if (command === 'restore' && values.file) return withStore((store) => restore(store, values.file!));
  process.stderr.write('usage: offline.ts backup -o <file> | restore -f <file>   (the store comes from REDIS_URL, REDIS_PREFIX, DATA_DIR)\n');
  return 1;
}

async function withStore(run: (store: Store) => Promise<void>): Promise<number> {
  const config = loadConfig(process.env);
  const store = await openStore({
    redisUrl: config.REDIS_URL,
    dataDir: config.DATA_DIR,
    prefix: config.REDIS_PREFIX,
    waitReplicas: config.REDIS_WAIT_REPLICAS,
    waitTimeoutMs: config.REDIS_WAIT_TIMEOUT_MS,
  });
  try {
    await run(store);
    return 0;
  } finally {
    await store.close();
  }
}

async function backup(store: Store, file: string): Promise<void> {
  const header = { createdAt: new Date().toISOString(), controllerVersion: VERSION, storeKind: store.kind };
  // Unlike the route, nothing is written to the store: an offline backup may run against a store in trouble.
  await pipeline(Readable.from(backupJson(store, await readSnapshot(store), header)), createWriteStream(file, { mode: 0o600 }));
  process.stderr.write(`wrote ${file}\n`);
}

async function restore(store: Store, file: string): Promise<void> {
  const text = await readFile(file, 'utf8');
  assertJsonDepth(text, file);
  const backupDoc = parseBackup(JSON.parse(text));
  // A store that a replica found had lost data (its marker is there): the restore ends the loss.
  const alsoInLastCommit = await restoreEndingLoss(store, undefined, new Date());
  const result = await restoreBackup(store, backupDoc, { actor: OFFLINE, now: () => new Date(), targetName: store.kind, alsoInLastCommit });
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (!result.audit.ok) throw new AppError('internal', 'restore_unverified', `restored, but the audit log does not verify: ${result.audit.problem}`);
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err) => {
    const known = err instanceof AppError || err instanceof ConfigError;
    process.stderr.write(`${known ? err.message : ((err as Error).stack ?? String(err))}\n`);
    process.exitCode = err instanceof AppError && err.kind === 'conflict' ? 2 : 1;
  },
);
