import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { DestinationStream } from 'pino';
import { inject } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { startController, type Controller } from '../../src/controller.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { testEnvironmentsFile } from './environments.js';

export interface TestController {
  url: string;
  controller: Controller;
  adminToken: string;
  prefix: string;
  /** Creates a token through the admin API and returns its secret. */
  token(input: { kind: 'client' | 'frontend'; environment: string } | { kind: 'admin'; role: string }): Promise<string>;
  /** Calls the API with a token (the bootstrap admin token when none is given). */
  api(method: string, route: string, body?: unknown, token?: string): Promise<{ status: number; body: any; headers: Headers }>;
  stop(): Promise<void>;
}

export function uniquePrefix(label: string): string {
  return `t-${label}-${randomBytes(4).toString('hex')}`;
}

/** An empty directory, for FLAGS_DIR when a test wants no flag files. */
export function emptyDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'rc-empty-'));
}

/**
 * Starts a whole controller in this process on a real HTTP port. By default on the run's real
 * redis-server under a fresh key prefix; pass `embedded: true` for the embedded store. The
 * environments the tests use are declared (see ./environments.ts).
 */
export async function startTestController(
  options: {
    embedded?: boolean;
    dataDir?: string;
    prefix?: string;
    flagsDir?: string;
    /** The environments file (default: one declaring TEST_ENVIRONMENTS without rules). */
    environmentsFile?: string;
    env?: Record<string, string>;
    now?: () => Date;
    /** Where the controller logs (default: a logger at TEST_LOG_LEVEL, silent unless set). */
    logger?: Logger;
    /** Where the controller's log lines go when no `logger` is given (default: stdout, at TEST_LOG_LEVEL or silent). */
    logTo?: DestinationStream;
  } = {},
): Promise<TestController> {
  const adminToken = `admin-${randomBytes(16).toString('hex')}`;
  const prefix = options.prefix ?? uniquePrefix('ctl');
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    ADMIN_TOKEN: adminToken,
    REDIS_URL: options.embedded ? '' : inject('redisUrl'),
    REDIS_PREFIX: prefix,
    DATA_DIR: options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'rc-data-')),
    FLAGS_DIR: options.flagsDir ?? emptyDir(),
    ENVIRONMENTS_FILE: options.environmentsFile ?? testEnvironmentsFile(),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    SHUTDOWN_TIMEOUT_MS: '2000',
    ...options.env,
  });
  const controller = await startController(config, options.logger ?? createLogger(config.LOG_LEVEL, options.logTo), { now: options.now });
  const url = `http://127.0.0.1:${controller.port}`;
  const api: TestController['api'] = async (method, route, body, token = adminToken) => {
    const res = await fetch(`${url}${route}`, {
      method,
      headers: { Authorization: token, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
  };
  return {
    url,
    controller,
    adminToken,
    prefix,
    api,
    async token(input) {
      const res = await api('POST', '/api/admin/tokens', { ...input, name: `test-${input.kind}` });
      if (res.status !== 201) throw new Error(`token creation failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.secret as string;
    },
    stop: () => controller.stop(),
  };
}
