import { constants, type Stats } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import path from 'node:path';
import { FileError } from './file-error.js';

/** Problems of a file as a whole (it could not be read at all) have no field path; they carry this one. */
export const WHOLE_FILE = '(file)';

export interface BoundedReadOptions {
  /** The largest file accepted, in bytes (YAML_FILE_MAX_BYTES). */
  maxBytes: number;
  /** The directory the file was found in: the file, symlinks resolved, must be inside it. */
  directory: string;
}

/**
 * Reads a text file that someone other than the operator may have put in place (a synced git
 * checkout, a volume): only a regular file, only inside its directory once symlinks are resolved,
 * and never more than maxBytes. A symlink to /dev/zero, a FIFO, a directory named x.yaml, a link to
 * a secret elsewhere on the machine or a 50 MB file each end in a FileError naming the file and the
 * reason, without reading past the limit or waiting on a writer that never comes.
 */
export async function readBoundedFile(file: string, { maxBytes, directory }: BoundedReadOptions): Promise<string> {
  const fail = (problem: string) => new FileError(file, WHOLE_FILE, problem);
  const real = await realpath(file).catch((err: NodeJS.ErrnoException) => {
    throw fail(unreadable(err, 'is a symlink to a file that does not exist'));
  });
  const root = await realpath(directory).catch((err: NodeJS.ErrnoException) => {
    throw fail(unreadable(err, 'its directory does not exist'));
  });
  if (!isInside(root, real)) throw fail(`is a symlink to ${real}, outside ${root}: not read (files must stay inside their directory)`);

  // O_NONBLOCK: a FIFO swapped in after the checks above opens at once instead of waiting for a
  // writer; O_NOFOLLOW: so does a symlink swapped in (it fails rather than being followed).
  const flags = constants.O_RDONLY | constants.O_NONBLOCK | (constants.O_NOFOLLOW ?? 0);
  const handle = await open(real, flags).catch((err: NodeJS.ErrnoException) => {
    throw fail(unreadable(err));
  });
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw fail(`is ${kindOf(stats)}, not a regular file`);
    if (stats.size > maxBytes) throw fail(`is ${stats.size} bytes, over the limit of ${maxBytes} (YAML_FILE_MAX_BYTES): not read`);
    // One byte more than fstat said, so that a file that grew meanwhile is noticed, not cut short.
    const buffer = Buffer.alloc(stats.size + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await handle.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > stats.size) throw fail('changed while it was being read: not read');
    return decodeUtf8(buffer.subarray(0, length), fail);
  } finally {
    await handle.close();
  }
}

function isInside(root: string, real: string): boolean {
  const relative = path.relative(root, real);
  return relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}

function unreadable(err: NodeJS.ErrnoException, ifMissing = 'does not exist'): string {
  if (err.code === 'ENOENT') return ifMissing;
  if (err.code === 'ELOOP') return 'is a symlink loop';
  if (err.code === 'EACCES' || err.code === 'EPERM') return 'cannot be read: permission denied';
  return `cannot be read: ${err.code ?? err.message}`;
}

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a named pipe (FIFO)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a file';
}

function decodeUtf8(bytes: Uint8Array, fail: (problem: string) => FileError): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw fail('is not UTF-8 text');
  }
}
