import type { Response } from 'express';
import { LimitError } from '../errors/limit-error.js';
import type { Logger } from '../logger.js';
import type { SdkFetchRecorder } from './sdk-fetches.js';
import type { ChangedKeys, DeltaEvent, ServingState } from './serving-state.js';

/** A stream that cannot keep up is cut (it reconnects with Last-Event-ID) rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** How long an SDK refused a stream is asked to wait before it tries again. */
const STREAM_RETRY_AFTER_SECONDS = 30;

export interface StreamLimits {
  /** Open streams of one token on this replica (STREAMS_PER_TOKEN). */
  perToken: number;
  /** Open streams on this replica in all (STREAMS_PER_REPLICA). */
  perReplica: number;
}

interface StreamClient {
  env: string;
  res: Response;
  /** The token the stream was opened with: revoking it ends the stream. */
  tokenId: string;
  /**
   * The SDK instance at the other end (SdkFetchRecorder.instanceOf): its every update, and each
   * heartbeat, is noted as a fetch of the state it holds, so other replicas know it is connected.
   */
  instance: string;
}

export function sseMessage(event: string, id: number, data: unknown): string {
  return `event: ${event}\nid: ${id}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * The open /api/client/streaming connections of this replica, by environment. On every applied
 * change each environment's update is rendered once and written to all of its streams, so a kill
 * reaches a thousand SDKs with one render and a thousand socket writes.
 */
export class StreamHub {
  private byEnv = new Map<string, Set<StreamClient>>();
  private byToken = new Map<string, number>();
  private openCount = 0;
  private heartbeat: NodeJS.Timeout;
  private unsubscribe: () => void;

  constructor(
    private readonly state: ServingState,
    private readonly logger: Logger,
    heartbeatMs: number,
    private readonly limits: StreamLimits = { perToken: Number.POSITIVE_INFINITY, perReplica: Number.POSITIVE_INFINITY },
    private readonly fetches?: SdkFetchRecorder,
  ) {
    this.unsubscribe = state.onChange((_seq, changes) => this.broadcast(changes));
    // A comment line keeps proxies and the SDK's read timeout (60 s) from closing an idle stream.
    this.heartbeat = setInterval(() => this.beat(), heartbeatMs);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.openCount;
  }

  /** Refuses a stream past either limit (429 with Retry-After), before anything is written. */
  private admit(tokenId: string): void {
    if (this.openCount >= this.limits.perReplica) {
      throw new LimitError(
        'rate-limited',
        'too_many_streams',
        `this replica already serves ${this.limits.perReplica} streams (STREAMS_PER_REPLICA); poll, or retry after ${STREAM_RETRY_AFTER_SECONDS} s`,
        'STREAMS_PER_REPLICA',
        STREAM_RETRY_AFTER_SECONDS,
      );
    }
    if ((this.byToken.get(tokenId) ?? 0) >= this.limits.perToken) {
      throw new LimitError(
        'rate-limited',
        'too_many_streams',
        `this token already has ${this.limits.perToken} streams open on this replica (STREAMS_PER_TOKEN); retry after ${STREAM_RETRY_AFTER_SECONDS} s`,
        'STREAMS_PER_TOKEN',
        STREAM_RETRY_AFTER_SECONDS,
      );
    }
  }

  /** Opens a stream: hydration on a fresh connect, or only what was missed on a reconnect with Last-Event-ID. */
  open(env: string, res: Response, lastEventId: string | undefined, tokenId: string, instance = ''): void {
    this.admit(tokenId);
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    res.socket?.setNoDelay(true);
    const since = lastEventId === undefined ? undefined : Number.parseInt(lastEventId, 10);
    const changes = since === undefined || Number.isNaN(since) ? null : this.state.changesSince(since);
    if (changes) {
      const events = this.state.deltaEvents(env, changes);
      if (events.length > 0) res.write(sseMessage('unleash-updated', this.state.seq, { events }));
    } else {
      // A reconnect storm after a deploy would otherwise render the full hydration once per stream.
      res.write(this.state.connectedMessage(env, (hydration, seq) => sseMessage('unleash-connected', seq, { events: [hydration] })));
    }
    this.fetches?.opened(env, instance, this.state.seq);
    const client: StreamClient = { env, res, tokenId, instance };
    let set = this.byEnv.get(env);
    if (!set) this.byEnv.set(env, (set = new Set()));
    set.add(client);
    this.openCount++;
    this.byToken.set(tokenId, (this.byToken.get(tokenId) ?? 0) + 1);
    res.on('close', () => {
      set.delete(client);
      if (set.size === 0 && this.byEnv.get(env) === set) this.byEnv.delete(env);
      this.openCount--;
      const left = this.byToken.get(tokenId)! - 1;
      if (left === 0) this.byToken.delete(tokenId);
      else this.byToken.set(tokenId, left);
      this.fetches?.closed(env, instance);
    });
  }

  private broadcast(changes: ChangedKeys): void {
    for (const [env, clients] of this.byEnv) {
      const events: DeltaEvent[] = this.state.deltaEvents(env, changes);
      if (events.length === 0) continue;
      const message = sseMessage('unleash-updated', this.state.seq, { events });
      for (const client of clients) {
        if (this.write(client, message)) this.fetches?.note(env, client.instance, this.state.seq);
      }
    }
  }

  /** Every stream gets a heartbeat and holds the current state (each update was written to it). */
  private beat(): void {
    for (const [env, clients] of this.byEnv) {
      for (const client of clients) if (this.write(client, ':\n\n')) this.fetches?.note(env, client.instance, this.state.seq);
    }
  }

  /** Writes to a stream; false when it was cut instead, for not reading what it was sent. */
  private write(client: StreamClient, chunk: string): boolean {
    if (client.res.writableLength > MAX_BUFFERED_BYTES) {
      this.logger.warn({ env: client.env }, 'closing a stream that is not reading its updates');
      client.res.destroy();
      return false;
    }
    client.res.write(chunk);
    return true;
  }

  /**
   * Ends every stream opened with a token that was just revoked: authentication happens when a
   * stream opens, so without this a revoked SDK would keep receiving flags until it reconnected.
   */
  closeToken(tokenId: string): number {
    let closed = 0;
    for (const clients of this.byEnv.values()) {
      for (const client of clients) {
        if (client.tokenId !== tokenId) continue;
        client.res.end();
        closed++;
      }
    }
    if (closed > 0) this.logger.info({ tokenId, streams: closed }, 'closed the streams of a revoked token');
    return closed;
  }

  /** Graceful shutdown: end every stream cleanly so SDKs reconnect to another replica at once. */
  closeAll(): void {
    clearInterval(this.heartbeat);
    this.unsubscribe();
    for (const clients of this.byEnv.values()) for (const client of clients) client.res.end();
    this.byEnv.clear();
  }
}
