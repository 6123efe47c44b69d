import { existsSync } from 'node:fs';
import { AppError, StoreUnavailableError } from '../errors/app-error.js';
import { readStoreFiles, snapshotIdentity } from './embedded-journal.js';
import { EmbeddedState } from './embedded-state.js';
import type { StoreReader } from './port.js';

/** A compaction between reading the snapshot and its journal is retried this often before giving up. */
const READ_ATTEMPTS = 5;

/**
 * The embedded store's files read as they are, for tools that only look (`npm run simulate --
 * --replay`): no lock is taken and nothing is written, so it may run beside the controller that
 * owns the directory. What it holds is the state as of the read; it does not follow later writes.
 * Counters the controller has not flushed yet (it journals them about once a second) are not seen.
 */
class EmbeddedReader extends EmbeddedState implements StoreReader {
  readonly kind = 'embedded';

  async close(): Promise<void> {}
}

export async function openEmbeddedReader(dataDir: string, opts: { now?: () => number } = {}): Promise<StoreReader> {
  if (!existsSync(dataDir))
    throw new AppError('not-found', 'data_dir_missing', `embedded store directory ${dataDir} does not exist (set DATA_DIR to the controller's)`);
  for (let attempt = 1; ; attempt++) {
    const before = snapshotIdentity(dataDir);
    let files: ReturnType<typeof readStoreFiles> | undefined;
    try {
      files = readStoreFiles(dataDir);
    } catch (err) {
      // The journal was removed by a compaction while it was being read: read again.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= READ_ATTEMPTS) throw err;
    }
    // A compaction renames a new snapshot into place and then removes the old journal: if either
    // happened meanwhile, the snapshot and the journal read may not belong together.
    const moved = snapshotIdentity(dataDir) !== before || (files?.journalMissing && files.gen > 0);
    if (files && !moved) {
      const reader = new EmbeddedReader(Number.MAX_SAFE_INTEGER, opts.now ?? Date.now);
      reader.load(files.state, files.records);
      return reader;
    }
    if (attempt >= READ_ATTEMPTS)
      throw new StoreUnavailableError(`embedded store directory ${dataDir} kept changing under the reader (compacted ${attempt} times while reading)`);
  }
}
