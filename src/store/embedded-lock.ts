import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { AppError } from '../errors/app-error.js';
import { LOCK_FILE } from './embedded-format.js';

export interface DirectoryLock {
  release(): void;
}

/**
 * Takes the data directory for this process: an exclusive OS lock on DATA_DIR/LOCK (an
 * open-file-description lock on Linux, flock on macOS; fs-native-extensions, chosen in
 * docs/architecture.md), held through a descriptor that stays open while the store is open. The
 * kernel drops the lock when that descriptor is closed, which an exiting process does however it
 * dies (SIGKILL, the OOM killer, PID 1 of a container) and before it is reaped. So a dead owner can
 * never keep the directory, whatever process ids its successor sees; nothing needs cleaning up.
 * LOCK itself is never deleted: deleting a locked file would let a second process lock a new file
 * of the same name. Its content means nothing (format 1 wrote a process id there).
 */
export function lockDirectory(dir: string): DirectoryLock {
  const tryLock = loadTryLock();
  const file = path.join(dir, LOCK_FILE);
  const fd = fs.openSync(file, 'a');
  let granted: boolean;
  try {
    granted = tryLock(fd);
  } catch (err) {
    fs.closeSync(fd);
    throw new Error(
      `embedded store: cannot lock ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): the file system must support file locks`,
    );
  }
  if (!granted) {
    fs.closeSync(fd);
    throw new AppError(
      'conflict',
      'store_in_use',
      `embedded store directory ${dir} is in use: another process holds the lock on ${file}; only one process may open it`,
    );
  }
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      fs.closeSync(fd); // closing the only descriptor releases the lock
    },
  };
}

/**
 * Loaded on the first open of an embedded store, not with the module: a platform the addon has no
 * binary for (musl, say) can still run the controller on Redis.
 */
function loadTryLock(): (fd: number) => boolean {
  try {
    return (createRequire(import.meta.url)('fs-native-extensions') as typeof import('fs-native-extensions')).tryLock;
  } catch (err) {
    throw new Error(
      `embedded store: its file lock needs the native addon fs-native-extensions, which does not load here (${(err as Error).message.split('\n')[0]}); ` +
        'run on Redis (REDIS_URL) instead, or on a platform the addon ships a binary for (Linux with glibc, macOS, Windows)',
    );
  }
}
