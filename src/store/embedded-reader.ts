import fs from 'node:fs';
import path from 'node:path';
import { AppError, StoreDamagedError, StoreUnavailableError } from '../errors/app-error.js';
import { decodeHead, HEAD_FILE } from './embedded-format.js';
import { recover, type Recovered } from './embedded-recovery.js';
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

/** The generation HEAD names (a compaction moves it on last, after the new files are in place), or null. */
function headGeneration(dataDir: string): number | null {
  try {
    const head = decodeHead(fs.readFileSync(path.join(dataDir, HEAD_FILE), 'utf8'));
    return head.ok ? head.value.gen : null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export async function openEmbeddedReader(dataDir: string, opts: { now?: () => number } = {}): Promise<StoreReader> {
  if (!fs.existsSync(dataDir))
    throw new AppError('not-found', 'data_dir_missing', `embedded store directory ${dataDir} does not exist (set DATA_DIR to the controller's)`);
  for (let attempt = 1; ; attempt++) {
    const before = headGeneration(dataDir);
    let files: Recovered | undefined;
    try {
      // The same checks as the controller's start, without repairing anything (which would write).
      files = recover(dataDir, { repair: false, now: () => new Date() });
    } catch (err) {
      // A compaction removed or replaced a file while it was being read: read again. Real damage
      // is reported as the controller would report it once the attempts are spent.
      const moving = (err as NodeJS.ErrnoException).code === 'ENOENT' || err instanceof StoreDamagedError;
      if (!moving || attempt >= READ_ATTEMPTS) throw err;
    }
    if (files && headGeneration(dataDir) === before) {
      const reader = new EmbeddedReader(Number.MAX_SAFE_INTEGER, opts.now ?? Date.now);
      reader.load(files.state, files.records);
      return reader;
    }
    if (attempt >= READ_ATTEMPTS)
      throw new StoreUnavailableError(`embedded store directory ${dataDir} kept changing under the reader (compacted ${attempt} times while reading)`);
  }
}
