import type { FeedEntry, GapKind } from './port.js';
import type { RedisClient } from './redis-connection.js';
import { parseFeedEntry, type RedisKeys, type StreamEntry } from './redis-encoding.js';

/** What one follower of the Redis store's change feed runs on. */
export interface FeedFollowerDeps {
  /** A connection for this follower alone; it is disconnected when the follower stops. */
  conn: RedisClient;
  keys: Pick<RedisKeys, 'feed' | 'feedseq'>;
  /** How long one XREAD blocks before looping (ms). */
  blockMs: number;
  /** The store's running followers: the stop function is in it while this one runs, so closing the store stops it. */
  followers: Set<() => void>;
}

/** RedisStore.follow (see Store.follow): a blocking XREAD loop that reports gaps. Returns the stop function. */
export function followFeed(deps: FeedFollowerDeps, afterSeq: number, onEntries: (entries: FeedEntry[]) => void, onGap: (kind: GapKind) => void): () => void {
  const { conn, keys, blockMs, followers } = deps;
  let stopped = false;
  let last = Math.max(0, Math.floor(afterSeq));
  // After a reconnection the server may be a promoted replica that missed the last entries, or a
  // restart that lost everything (its seqs start over below ours, so an XREAD after our position
  // would wait forever). Following resumes only when the entry at our position is still the one we
  // know; otherwise the caller reloads.
  let known: string | undefined; // the entry at `last`, as "collection/id@version" (undefined: not read)
  let connections = 0;
  let verify = true;
  conn.on('ready', () => {
    if (++connections > 1) verify = true;
  });
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    followers.delete(stop);
    conn.disconnect(); // rejects the pending XREAD at once instead of waiting out BLOCK
  };
  followers.add(stop);
  const entryAt = async (seq: number) => {
    const raw = seq > 0 ? ((await conn.call('XRANGE', keys.feed, `${seq}-1`, `${seq}-1`)) as StreamEntry[]) : [];
    return raw[0] && entryMark(parseFeedEntry(raw[0]));
  };
  // Resume from the head as of now: the caller's reload covers everything up to it.
  const gap = async (kind: GapKind, atLeast: number) => {
    last = Math.max(Number((await conn.get(keys.feedseq)) ?? 0), atLeast);
    known = await entryAt(last);
    guard(() => onGap(kind));
  };
  const stillContinuous = async () => {
    const head = Number((await conn.get(keys.feedseq)) ?? 0);
    if (head < last) return false;
    const now = await entryAt(last);
    // First look (nothing to compare with), or trimmed away since (the next read reports that gap).
    if (known === undefined || now === undefined) {
      known = now;
      return true;
    }
    return now === known;
  };
  void (async () => {
    let backoff = 50;
    while (!stopped) {
      try {
        if (verify) {
          if (!(await stillContinuous())) await gap('diverged', 0);
          verify = false;
          continue;
        }
        const res = (await conn.call('XREAD', 'COUNT', 1000, 'BLOCK', blockMs, 'STREAMS', keys.feed, `${last}-1`)) as [string, StreamEntry[]][] | null;
        backoff = 50;
        if (stopped || verify || !res?.[0]) continue;
        const entries = res[0][1].map(parseFeedEntry);
        if (entries.length === 0) continue;
        const newest = entries[entries.length - 1]!;
        if (entries[0]!.seq !== last + 1) {
          await gap('behind', newest.seq);
          continue;
        }
        last = newest.seq;
        known = entryMark(newest);
        guard(() => onEntries(entries));
      } catch {
        if (stopped) break;
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 2000);
      }
    }
  })();
  return stop;
}

function entryMark(e: FeedEntry): string {
  return `${e.collection}/${e.id}@${e.version}`;
}

/** A throwing callback must not kill the follow loop; report it without crashing the process. */
function guard(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    process.emitWarning(`store follow callback threw: ${(err as Error)?.stack ?? String(err)}`);
  }
}
