import { isDeepStrictEqual } from 'node:util';
import { InMemStorageProvider, Unleash, type Context, type UnleashConfig } from 'unleash-client';
import type { TestController } from '../support/controller.js';
import type { ClientPayload } from './fixtures.js';

/** The three ways a stock Node SDK (unleash-client 6.x) fetches flags. */
export type SdkMode = 'polling' | 'delta' | 'streaming';
export const SDK_MODES: SdkMode[] = ['polling', 'delta', 'streaming'];
export const APP_NAME = 'sdk-test-app';

export function modeConfig(mode: SdkMode): Pick<UnleashConfig, 'experimentalMode'> {
  switch (mode) {
    case 'polling':
      return { experimentalMode: { type: 'polling', format: 'full' } };
    case 'delta':
      return { experimentalMode: { type: 'polling', format: 'delta' } };
    case 'streaming':
      return { experimentalMode: { type: 'streaming' } };
  }
}

export interface TrackedSdk {
  sdk: Unleash;
  errors: unknown[];
  warnings: unknown[];
}

const started = new Set<Unleash>();

/** Destroys every SDK this file started (call from afterAll/afterEach). */
export function destroyAllSdks(): void {
  for (const sdk of started) sdk.destroy();
  started.clear();
}

export function destroySdk(sdk: Unleash): void {
  if (started.delete(sdk)) sdk.destroy();
}

function track(config: Omit<UnleashConfig, 'appName'> & { appName?: string }): TrackedSdk {
  const sdk = new Unleash({
    appName: APP_NAME,
    environment: 'production',
    // Never share backups between SDKs or tests: each one gets its own in-memory store.
    storageProvider: new InMemStorageProvider(),
    skipInstanceCountWarning: true,
    ...config,
  });
  started.add(sdk);
  const tracked: TrackedSdk = { sdk, errors: [], warnings: [] };
  sdk.on('error', (err: unknown) => tracked.errors.push(err));
  sdk.on('warn', (msg: unknown) => tracked.warnings.push(msg));
  return tracked;
}

/** A stock SDK talking to the controller in the given mode; resolves once it has the server's flags. */
export async function startLiveSdk(
  t: TestController,
  secret: string,
  mode: SdkMode,
  options: {
    refreshInterval?: number;
    disableMetrics?: boolean;
    metricsInterval?: number;
    /** Anything else of the SDK's configuration (appName, environment, …), over this helper's defaults. */
    config?: Partial<UnleashConfig>;
  } = {},
): Promise<TrackedSdk> {
  const tracked = track({
    url: `${t.url}/api/`,
    customHeaders: { Authorization: secret },
    refreshInterval: options.refreshInterval ?? 200,
    disableMetrics: options.disableMetrics ?? true,
    metricsInterval: options.metricsInterval ?? 60_000,
    ...modeConfig(mode),
    ...options.config,
  });
  await waitForEvent(tracked, 'synchronized', 10_000);
  return tracked;
}

/**
 * A stock SDK that never talks to a server: it evaluates exactly the given payload, loaded the way
 * Unleash's own bootstrap loads it ({version, features, segments}). refreshInterval 0 disables fetching.
 */
export async function startReferenceSdk(payload: Pick<ClientPayload, 'features'> & { segments?: ClientPayload['segments'] }): Promise<TrackedSdk> {
  const tracked = track({
    url: 'http://127.0.0.1:9/never-called/',
    refreshInterval: 0,
    disableMetrics: true,
    bootstrap: {
      data: structuredClone(payload.features) as unknown as NonNullable<UnleashConfig['bootstrap']>['data'],
      ...(payload.segments ? { segments: structuredClone(payload.segments) as unknown as NonNullable<UnleashConfig['bootstrap']>['segments'] } : {}),
    },
  });
  await waitForEvent(tracked, 'synchronized', 5_000);
  return tracked;
}

export function waitForEvent(tracked: TrackedSdk, event: string, timeoutMs: number): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      tracked.sdk.off(event, onEvent);
      reject(new Error(`no "${event}" within ${timeoutMs} ms; errors: ${tracked.errors.map(String).join('; ')}`));
    }, timeoutMs);
    const onEvent = (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args);
    };
    tracked.sdk.once(event, onEvent);
  });
}

/**
 * Resolves with performance.now() at the first moment `predicate` holds: at once, or at a later
 * `changed` event of the SDK. Create it BEFORE making the change, so no event can be missed.
 */
export function until(sdk: Unleash, predicate: () => boolean, label: string, timeoutMs = 5_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (!predicate()) return;
      cleanup();
      resolve(performance.now());
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for: ${label}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      sdk.off('changed', check);
    };
    sdk.on('changed', check);
    check();
  });
}

/** Resolves after the SDK reported `n` more `unchanged` fetches (304s). */
export function unchangedPolls(sdk: Unleash, n: number, timeoutMs = 5_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = 0;
    const onUnchanged = () => {
      if (++seen < n) return;
      clearTimeout(timer);
      sdk.off('unchanged', onUnchanged);
      resolve();
    };
    const timer = setTimeout(() => {
      sdk.off('unchanged', onUnchanged);
      reject(new Error(`only ${seen} of ${n} unchanged polls within ${timeoutMs} ms`));
    }, timeoutMs);
    sdk.on('unchanged', onUnchanged);
  });
}

export interface Comparison {
  checks: number;
  mismatches: string[];
  /** flag → how many contexts it was enabled for (in the reference). */
  enabled: Map<string, number>;
  /** flag → variant names the reference returned. */
  variants: Map<string, Set<string>>;
}

/** Evaluates every flag for every context in both SDKs and lists where they differ. */
export function compareSdks(live: Unleash, reference: Unleash, flags: string[], contexts: Context[]): Comparison {
  const result: Comparison = { checks: 0, mismatches: [], enabled: new Map(), variants: new Map() };
  for (const flag of flags) {
    result.enabled.set(flag, 0);
    result.variants.set(flag, new Set());
    contexts.forEach((ctx, i) => {
      const expected = reference.isEnabled(flag, ctx);
      const actual = live.isEnabled(flag, ctx);
      const expectedVariant = reference.getVariant(flag, ctx);
      const actualVariant = live.getVariant(flag, ctx);
      result.checks += 2;
      if (expected) result.enabled.set(flag, result.enabled.get(flag)! + 1);
      result.variants.get(flag)!.add(expectedVariant.name);
      if (expected !== actual) result.mismatches.push(`${flag} ctx#${i}: isEnabled ${actual}, reference ${expected}`);
      if (!isDeepStrictEqual(actualVariant, expectedVariant)) {
        result.mismatches.push(`${flag} ctx#${i}: getVariant ${JSON.stringify(actualVariant)}, reference ${JSON.stringify(expectedVariant)}`);
      }
    });
  }
  return result;
}

/** GET on the client API with a client token, with full control over the headers. */
export async function clientGet(t: TestController, secret: string, route: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${t.url}${route}`, { headers: { Authorization: secret, ...headers } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text ? JSON.parse(text) : undefined };
}
