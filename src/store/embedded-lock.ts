import fs from 'node:fs';
import path from 'node:path';
import { tryLock } from 'fs-native-extensions';
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
