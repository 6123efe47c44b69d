import { InMemStorageProvider, Unleash } from 'unleash-client';
import type { TestController } from '../support/controller.js';

/** Stock unleash-client instances with names of their own, for propagation and drill tests. */

export interface NamedSdk {
  sdk: Unleash;
  appName: string;
  instanceId: string;
  errors: unknown[];
}

export async function startNamedSdk(
  t: TestController,
  secret: string,
  opts: { appName: string; instanceId: string; mode: 'polling' | 'streaming'; refreshInterval: number },
): Promise<NamedSdk> {
  const sdk = new Unleash({
    appName: opts.appName,
    instanceId: opts.instanceId,
    url: `${t.url}/api/`,
    customHeaders: { Authorization: secret },
    refreshInterval: opts.refreshInterval,
    disableMetrics: true,
    storageProvider: new InMemStorageProvider(),
    skipInstanceCountWarning: true,
    experimentalMode: opts.mode === 'streaming' ? { type: 'streaming' } : { type: 'polling', format: 'full' },
  });
  const started: NamedSdk = { sdk, appName: opts.appName, instanceId: opts.instanceId, errors: [] };
  sdk.on('error', (err: unknown) => started.errors.push(err));
  sdk.on('warn', () => undefined);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${opts.instanceId}: not synchronized within 15 s`)), 15_000);
    sdk.once('synchronized', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return started;
}

/** Resolves when `predicate` holds, checking every 50 ms; rejects after `timeoutMs` naming `what`. */
export async function eventually<T>(read: () => Promise<T> | T, predicate: (value: T) => boolean, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (predicate(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
