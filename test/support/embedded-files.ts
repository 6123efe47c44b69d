import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect } from 'vitest';
import { StoreDamagedError } from '../../src/errors/app-error.js';
import { type EmbeddedStoreOptions, openEmbeddedStore } from '../../src/store/embedded-store.js';
import type { Store } from '../../src/store/port.js';

/** Helpers of the embedded store's tests: data directories, writes to damage, the files to damage, and the check of a refused open. */

/** A maker of temporary directories (named `prefix…`), each removed after the test that made it. */
export function tempDirs(prefix: string): () => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
}

export async function open(dir: string, opts: EmbeddedStoreOptions = {}): Promise<Store> {
  return openEmbeddedStore(dir, { warn: () => {}, ...opts });
}

/** Five more acknowledged commits of a 300-byte flag each, closed: the journal of HEAD's generation holds them. */
export async function fiveWrites(dir: string): Promise<void> {
  const store = await open(dir);
  const done = (await store.list('flags')).length;
  for (let i = done + 1; i <= done + 5; i++) {
    await store.commit({
      puts: [{ collection: 'flags', id: `f${i}`, value: { enabled: true, description: 'x'.repeat(300) } }],
      appends: [{ log: 'audit', seq: i, entry: { n: i } }],
    });
  }
  await store.close();
}

export const head = (dir: string): { gen: number; seq: number } => JSON.parse(fs.readFileSync(path.join(dir, 'HEAD'), 'utf8'));
/** The newest file named like `pattern` (the current generation's); found by name alone, so the tests also run against format 1. */
const newest = (dir: string, pattern: RegExp): string => {
  const gen = (f: string) => Number(/\d+/.exec(f)?.[0] ?? 0);
  const files = fs.readdirSync(dir).filter((f) => pattern.test(f));
  return path.join(dir, files.sort((a, b) => gen(a) - gen(b)).at(-1)!);
};
export const journalOf = (dir: string) => newest(dir, /^journal-\d+\.(log|jsonl)$/);
export const snapshotOf = (dir: string) => newest(dir, /^snapshot(-\d+)?\.json$/);

/** Every file's name and content hash: a refused open must leave all of them as they were. */
export function contents(dir: string): Record<string, string> {
  return Object.fromEntries(
    fs.readdirSync(dir).map((f) => [
      f,
      createHash('sha256')
        .update(fs.readFileSync(path.join(dir, f)))
        .digest('hex'),
    ]),
  );
}

export async function expectDamage(dir: string, file: string, offset: number, lastGoodSeq: number | null, problem: RegExp): Promise<StoreDamagedError> {
  const before = contents(dir);
  const err = await open(dir).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreDamagedError);
  const damage = err as StoreDamagedError;
  expect({ file: damage.file, offset: damage.offset, lastGoodSeq: damage.lastGoodSeq }).toEqual({ file, offset, lastGoodSeq });
  expect(damage.problem).toMatch(problem);
  expect(damage.message).toContain(`${file} at byte ${offset}`);
  expect(damage.message).toContain(lastGoodSeq === null ? 'the last good record is none' : `the last good record is sequence ${lastGoodSeq}`);
  expect(contents(dir), 'a refused open changes no file (no compaction over the damage)').toEqual(before);
  return damage;
}

/** Byte offsets at which each line of a file starts. */
export const lineStarts = (file: string): number[] => {
  const buf = fs.readFileSync(file);
  const starts = [0];
  for (let i = buf.indexOf(10); i !== -1 && i < buf.length - 1; i = buf.indexOf(10, i + 1)) starts.push(i + 1);
  return starts;
};
