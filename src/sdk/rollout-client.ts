import { createRequire } from 'node:module';
import os from 'node:os';
import { Unleash, type Context, type UnleashConfig } from 'unleash-client';
import type { Cohort } from '../metrics/outcome-model.js';
import { backupFirstBootstrap, resolveBootstrap, type BootstrapSource, type StorageProvider } from './bootstrap.js';
import { checkLatencyBuckets, DEFAULT_LATENCY_BUCKETS_MS, OutcomeBatch, type Observation } from './outcome-batch.js';
import { OutcomeSender, type SenderStats } from './outcome-sender.js';
import { unitOf } from './unit-of.js';

// The stock client's file backup (the flags it last fetched) is not in its public exports.
const FileStorageProvider: new (dir: string) => StorageProvider = createRequire(import.meta.url)(
  'unleash-client/lib/repository/storage-provider-file.js',
).default;

export interface RolloutClientOptions {
  /** The controller, e.g. http://localhost:4242 (a trailing /api/ is accepted too). */
  url: string;
  appName: string;
  /** A client token: it fixes the environment flags are served from and outcomes counted in. */
  token: string;
  /** Flags to use while the controller has never been reached; else ROLLOUT_BOOTSTRAP; else all OFF. */
  bootstrap?: BootstrapSource;
  /** How often outcomes are posted (default 5 s). */
  flushIntervalMs?: number;
  /** Upper bounds of the latency histogram, in ms (a +Inf bucket is added). */
  latencyBucketsMs?: readonly number[];
  /** How often flags are fetched (default 15 s, the stock client's). */
  refreshIntervalMs?: number;
  /** Where the stock client keeps the flags it last fetched (default the OS temp dir). */
  backupPath?: string;
  /** Failed posts are tried again at this many flushes at most (default 5), then dropped. */
  maxAttempts?: number;
  /** At most this many failed batches are held for retry (default 20); older ones are dropped. */
  maxPendingBatches?: number;
  /** Time allowed per outcome post (default 5 s). */
  postTimeoutMs?: number;
  /** Problems the helper handled instead of throwing (default: a console warning when the message changes). */
  onError?: (error: Error) => void;
  /** More options for the stock unleash-client underneath (streaming mode, metricsInterval, …). */
  unleash?: Partial<UnleashConfig>;
  /** Where ROLLOUT_BOOTSTRAP is read from (default process.env). */
  env?: Record<string, string | undefined>;
  /** Clock for latencies, in ms (default performance.now). */
  now?: () => number;
  fetch?: typeof fetch;
}

/** One guarded call: its cohort is fixed when it begins, whatever happens to the flag meanwhile. */
export interface GuardedCall {
  readonly flag: string;
  readonly enabled: boolean;
  readonly cohort: Cohort;
  /** Records the call once (later calls are ignored), with the latency since it began. */
  end(outcome?: { ok?: boolean }): void;
}

export interface RolloutClientStats extends SenderStats {
  /** Observations that could not be reported (a flag name the controller would refuse, too many flags). */
  refusedObservations: number;
}

/** Where the flags being served come from after `ready()`. */
export type FlagSource = 'controller' | 'fallback' | 'none';

function defaultOnError(): (error: Error) => void {
  let last = '';
  return (error) => {
    if (error.message === last) return; // a controller that is down would otherwise warn every flush
    last = error.message;
    console.warn(`[rollout-client] ${error.message}`);
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function' && (typeof value === 'object' || typeof value === 'function');
}

/**
 * Evaluates flags with the stock unleash-client and reports what the guarded work did, per cohort
 * (treatment: flag on, control: flag off), to POST /api/metrics/outcomes. Nothing here throws into
 * the application or waits on the network in its path: evaluation is the stock client's in-memory
 * lookup, recording is an addition in memory, and posting happens on a timer.
 */
export class RolloutClient {
  readonly unleash: Unleash;
  private batch: OutcomeBatch;
  private readonly sender: OutcomeSender;
  private readonly bounds: readonly number[];
  private readonly timer: NodeJS.Timeout;
  private readonly onError: (error: Error) => void;
  private readonly now: () => number;
  private flushing: Promise<void> = Promise.resolve();
  private refused = 0;
  private flagsLoaded = false;
  /** Whether flags have come from the controller; the stock client's `synchronized` also counts a bootstrap. */
  private fromController = false;
  private bootstrapChangesToIgnore = 0;
  private readonly controllerWaiters = new Set<() => void>();
  private closed: Promise<void> | undefined;

  constructor(options: RolloutClientOptions) {
    this.onError = options.onError ?? defaultOnError();
    this.now = options.now ?? (() => performance.now());
    this.bounds = checkLatencyBuckets(options.latencyBucketsMs ?? DEFAULT_LATENCY_BUCKETS_MS);
    this.batch = new OutcomeBatch(this.bounds, undefined, Date.now());
    const base = options.url.replace(/\/+$/, '').replace(/\/api$/, '');
    this.sender = new OutcomeSender({
      endpoint: `${base}/api/metrics/outcomes`,
      token: options.token,
      appName: options.appName,
      timeoutMs: options.postTimeoutMs ?? 5_000,
      maxAttempts: options.maxAttempts ?? 5,
      maxPendingBatches: options.maxPendingBatches ?? 20,
      fetch: options.fetch ?? fetch,
      onError: (error) => this.report(error),
    });

    const storageProvider = options.unleash?.storageProvider ?? new FileStorageProvider(options.backupPath ?? os.tmpdir());
    const bootstrap = resolveBootstrap(options.bootstrap, options.env ?? process.env, (error) => this.report(error));
    this.unleash = new Unleash({
      refreshInterval: options.refreshIntervalMs,
      skipInstanceCountWarning: true,
      ...options.unleash,
      appName: options.appName,
      url: `${base}/api/`,
      customHeaders: { ...options.unleash?.customHeaders, Authorization: options.token },
      storageProvider,
      // Started below, so that a refused token (the stock client rejects start() on 401/403) is
      // reported instead of becoming an unhandled rejection, which would end a Node process.
      disableAutoStart: true,
      ...(bootstrap
        ? {
            bootstrap: { bootstrapProvider: backupFirstBootstrap(storageProvider, options.appName, bootstrap, () => (this.bootstrapChangesToIgnore += 1)) },
            bootstrapOverride: false,
          }
        : {}),
    });
    // Listening to 'error' also keeps the stock client from printing each one itself.
    this.unleash.on('error', (err: unknown) => this.report(err));
    this.unleash.on('warn', (msg: unknown) => this.report(msg));
    this.unleash.once('ready', () => (this.flagsLoaded = true));
    // A fetch answered 200 ('changed', unless it is the bootstrap being applied) or 304 ('unchanged').
    this.unleash.on('changed', () => {
      if (this.bootstrapChangesToIgnore > 0) this.bootstrapChangesToIgnore -= 1;
      else this.markFromController();
    });
    this.unleash.on('unchanged', () => this.markFromController());
    this.unleash.start().catch((err: unknown) => this.report(err));

    const flushIntervalMs = options.flushIntervalMs ?? 5_000;
    this.timer = setInterval(() => void this.flush(), flushIntervalMs);
    this.timer.unref(); // reporting never keeps the application alive
  }

  /**
   * Waits until flags have been fetched from the controller, at most `timeoutMs`. Never rejects:
   * on time-out the application goes on with the fallback (saved flags or bootstrap) or, with
   * neither, every flag OFF; the answer says which.
   */
  async ready(timeoutMs = 10_000): Promise<FlagSource> {
    if (!this.fromController) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.controllerWaiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        this.controllerWaiters.add(done);
      });
    }
    if (this.fromController) return 'controller';
    return this.flagsLoaded ? 'fallback' : 'none';
  }

  private markFromController(): void {
    // The stock client marks itself initialised on a later tick than it emits 'changed'; until
    // then isEnabled answers the fallback, so wait for that before telling anyone flags are here.
    setImmediate(() => {
      if (this.fromController) return;
      this.fromController = true;
      for (const done of [...this.controllerWaiters]) done();
    });
  }

  /** The flag as served for this context; OFF for a flag it does not know, or on any failure. */
  isEnabled(flag: string, context?: Context): boolean {
    try {
      return this.unleash.isEnabled(flag, context, false);
    } catch (err) {
      this.report(err);
      return false;
    }
  }

  /** Evaluates the flag and starts a call whose outcome is recorded under the cohort it was in. */
  begin(flag: string, context?: Context): GuardedCall {
    const enabled = this.isEnabled(flag, context);
    const cohort: Cohort = enabled ? 'treatment' : 'control';
    // Counted per hashed user too, so the controller can judge users rather than requests.
    const who = unitOf(this.unleash.getFeatureToggleDefinition(flag), flag, context);
    const started = this.now();
    let ended = false;
    return {
      flag,
      enabled,
      cohort,
      end: (outcome = {}) => {
        if (ended) return;
        ended = true;
        this.record(flag, cohort, { ok: outcome.ok ?? true, latencyMs: this.now() - started, unit: who?.unit, user: who?.user });
      },
    };
  }

  /**
   * Runs `work` with the flag's value and records its outcome: a thrown error or a rejected
   * promise is an error, and reaches the caller unchanged. Sync or async: returns what `work` returns.
   */
  track<T>(flag: string, context: Context | undefined, work: (enabled: boolean) => T): T {
    const call = this.begin(flag, context);
    let result: T;
    try {
      result = work(call.enabled);
    } catch (err) {
      call.end({ ok: false });
      throw err;
    }
    if (!isThenable(result)) {
      call.end({ ok: true });
      return result;
    }
    return result.then(
      (value) => {
        call.end({ ok: true });
        return value;
      },
      (err: unknown) => {
        call.end({ ok: false });
        throw err;
      },
    ) as T;
  }

  /** Runs `on` when the flag is on (treatment) and `off` otherwise (control), recording the outcome. */
  run<T>(flag: string, context: Context | undefined, on: () => T, off: () => T): T {
    return this.track(flag, context, (enabled) => (enabled ? on() : off()));
  }
  /** Records an outcome measured by the application itself. */
  record(flag: string, cohort: Cohort, observation: Observation): void {
    try {
      if (this.closed) return;
      this.batch.add(flag, cohort, observation);
    } catch (err) {
      this.report(err);
    }
  }

  /** Posts what was recorded (and earlier failed posts). Resolves when done; never rejects. */
  flush(): Promise<void> {
    this.flushing = this.flushing
      .then(async () => {
        const batch = this.batch;
        this.batch = new OutcomeBatch(this.bounds, undefined, Date.now());
        this.refused += batch.refused;
        await this.sender.send(batch.toRecords(), batch.startedAt);
      })
      .catch((err: unknown) => this.report(err));
    return this.flushing;
  }

  /** Stops fetching and the timer, posts what is left once, and sends the stock client's usage metrics. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      clearInterval(this.timer);
      await this.flush();
      try {
        await this.unleash.destroyWithFlush();
      } catch (err) {
        this.report(err);
        this.unleash.destroy();
      }
    })();
    return this.closed;
  }

  stats(): RolloutClientStats {
    return { ...this.sender.stats(), refusedObservations: this.refused + this.batch.refused };
  }

  private report(err: unknown): void {
    try {
      this.onError(err instanceof Error ? err : new Error(String(err)));
    } catch {} // an application's error handler that throws must not break the helper either
  }
}

export function createRolloutClient(options: RolloutClientOptions): RolloutClient {
  return new RolloutClient(options);
}
