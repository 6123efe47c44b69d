import { openStream, type RawStream } from './sse-reader.js';
import { servedKey, type StreamLog } from './soak-deliveries.js';

/**
 * The soak's SDK streams: raw SSE readers (bench/sse-reader.ts, one socket each, cheap enough for
 * thousands), spread over the replicas, each logging every update of the watched flags as its served
 * key. A stream that closes is counted and opened again (an SDK would reconnect); the changes it
 * missed meanwhile stay missed.
 */
export interface StreamPool {
  logs: StreamLog[];
  /** Streams that could not be opened at the start. */
  failedToOpen: number;
  connectMs: number;
  /** Closes seen during the soak (each followed by a reconnect), and opens that failed (tried again a second later). */
  disconnects: number;
  reconnectFailures: number;
  /** Events received for watched flags, all streams together. */
  events: number;
  openCount(): number;
  close(): void;
}

const BATCH = 50;
const WATCHDOG_MS = 1_000;

export async function openStreamPool(opts: { urls: string[]; secret: string; count: number; watch: (name: string) => boolean }): Promise<StreamPool> {
  const streams: Array<RawStream | undefined> = [];
  const logs: StreamLog[] = [];
  let closing = false;
  const pool: StreamPool = {
    logs,
    failedToOpen: 0,
    connectMs: 0,
    disconnects: 0,
    reconnectFailures: 0,
    events: 0,
    openCount: () => streams.filter((s) => s && !s.closed).length,
    close: () => {
      closing = true;
      clearInterval(watchdog);
      for (const s of streams) s?.close();
    },
  };

  const connect = async (i: number): Promise<boolean> => {
    const log = logs[i]!;
    try {
      const stream = await openStream(opts.urls[i % opts.urls.length]!, opts.secret, opts.watch, `soak-sdk-${i}`, (_s, _enabled, at, feature) => {
        pool.events++;
        const got = log.received.get(feature.name) ?? { keys: [], at: [] };
        log.received.set(feature.name, got);
        got.keys.push(servedKey(feature));
        got.at.push(at);
      });
      if (closing) stream.close();
      streams[i] = stream;
      log.spans.push([performance.now(), Infinity]);
      return true;
    } catch {
      return false;
    }
  };

  const t0 = performance.now();
  for (let i = 0; i < opts.count; i++) logs.push({ received: new Map(), spans: [] });
  for (let i = 0; i < opts.count; i += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, opts.count - i) }, (_, j) => connect(i + j));
    pool.failedToOpen += (await Promise.all(batch)).filter((ok) => !ok).length;
  }
  pool.connectMs = Math.round(performance.now() - t0);

  // Closed streams are noticed within a second; their span ends then, and they are opened again (a batch at a time).
  let reconnecting = false;
  const watchdog = setInterval(() => {
    if (reconnecting || closing) return;
    // Streams that closed, and those not open at all (a failed open or reconnect), are tried again.
    const down = logs.flatMap((_, i) => (streams[i] === undefined || streams[i]!.closed ? [i] : [])).slice(0, BATCH);
    if (down.length === 0) return;
    reconnecting = true;
    void (async () => {
      for (const i of down) {
        if (streams[i] === undefined) continue;
        pool.disconnects++;
        streams[i] = undefined;
        const span = logs[i]!.spans.at(-1);
        if (span) span[1] = performance.now();
      }
      const results = await Promise.all(down.map((i) => connect(i)));
      pool.reconnectFailures += results.filter((ok) => !ok).length;
      reconnecting = false;
    })();
  }, WATCHDOG_MS);
  return pool;
}
