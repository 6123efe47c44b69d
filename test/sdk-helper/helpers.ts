import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { StoreOutcomeSource } from '../../src/metrics/outcomes.js';
import type { OutcomeTotals } from '../../src/metrics/outcome-model.js';
import { createRolloutClient, type RolloutClient, type RolloutClientOptions } from '../../src/sdk/index.js';
import type { TestController } from '../support/controller.js';

export const ENV = 'production';
export const HOUR = 3_600_000;

const clients = new Set<RolloutClient>();

/**
 * A helper client for a test: its own backup directory (so saved flags never leak between tests),
 * fast flag polling, no timer flushes (tests flush when they want to look), errors collected.
 */
export function testClient(options: Partial<RolloutClientOptions> & Pick<RolloutClientOptions, 'url' | 'token'>) {
  const errors: Error[] = [];
  const guard = createRolloutClient({
    appName: 'sdk-helper-test',
    backupPath: mkdtempSync(path.join(os.tmpdir(), 'rc-sdk-backup-')),
    refreshIntervalMs: 100,
    flushIntervalMs: 3_600_000,
    env: {},
    onError: (e) => errors.push(e),
    ...options,
    unleash: { disableMetrics: true, ...options.unleash },
  });
  clients.add(guard);
  return { guard, errors };
}

export async function closeAllClients(): Promise<void> {
  await Promise.all([...clients].map((c) => c.close()));
  clients.clear();
}

export function flagBody(enabled: boolean) {
  return { environments: { [ENV]: { enabled, strategies: [{ name: 'default', parameters: {}, constraints: [] }] } } };
}

export async function putFlag(t: TestController, name: string, enabled: boolean): Promise<void> {
  const res = await t.api('PUT', `/api/admin/flags/${name}`, flagBody(enabled));
  expect([200, 201]).toContain(res.status);
}

/** Polls until `predicate` holds (the stock client polls the controller every 100 ms here). */
export async function waitFor(predicate: () => boolean, label: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** What the controller counted for a flag over the last and next hour, read from the store. */
export function outcomeTotals(t: TestController, flag: string): Promise<OutcomeTotals> {
  const now = Date.now();
  return new StoreOutcomeSource(t.controller.store).sum(ENV, flag, now - HOUR, now + HOUR);
}
