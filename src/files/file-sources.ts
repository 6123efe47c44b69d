import { z } from 'zod';
import type { PutOp, Store } from '../store/port.js';

/** Which file last applied what: a restart with unchanged files re-applies nothing. */
export const FILE_SOURCES = 'file-sources';

/** A file marker: the hash of the content last applied. */
export const fileSourceSchema = z.object({ hash: z.string().min(1) });

/**
 * Files are applied when their content changed since they were last applied, so a file is the
 * source of truth when it changes and API edits survive a plain restart. Returns null when the
 * file is unchanged, or the write that records this version, to go into the same commit as its content.
 */
export async function fileSourceChange(store: Store, id: string, hash: string): Promise<PutOp | null> {
  const source = await store.get<{ hash: string }>(FILE_SOURCES, id);
  if (source?.value.hash === hash) return null;
  // Nobody follows these records, so they stay off the change feed.
  return { collection: FILE_SOURCES, id, value: { hash }, expectVersion: source?.version ?? 0, quiet: true };
}
