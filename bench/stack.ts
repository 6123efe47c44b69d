import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startRedisServer, type RedisServer } from '../test/support/redis-server.js';
import { spawnController, type ControllerProcess } from '../test/support/controller-process.js';
import type { Fixture } from './fixture.js';

export const ENV = 'production';

/** A controller process (on its own redis-server, or on the embedded store) loaded with the fixture. */
export interface Stack {
  store: 'redis' | 'embedded';
  url: string;
  pid: number;
  adminToken: string;
  clientSecret: string;
  admin(method: string, route: string, body?: unknown): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

/** Scratch directories for a bench controller: an empty one for flags and policies (nothing loads from the repo) and one for data. */
export interface BenchDirs {
  config: string;
  data: string;
  remove(): void;
}

export function benchDirs(label: string): BenchDirs {
  const config = mkdtempSync(path.join(os.tmpdir(), `rc-${label}-config-`));
  const data = mkdtempSync(path.join(os.tmpdir(), `rc-${label}-data-`));
  return { config, data, remove: () => [config, data].forEach((dir) => rmSync(dir, { recursive: true, force: true })) };
}

/** A controller process for a bench run: no flag or policy files, its own data directory, a quick shutdown; `env` adds the rest. */
export function spawnBenchController(dirs: BenchDirs, env: Record<string, string>): Promise<ControllerProcess> {
  return spawnController({ FLAGS_DIR: dirs.config, POLICIES_DIR: dirs.config, DATA_DIR: dirs.data, SHUTDOWN_TIMEOUT_MS: '2000', ...env });
}

export async function startStack(store: 'redis' | 'embedded', fixture: Fixture): Promise<Stack> {
  const dirs = benchDirs('bench');
  let redis: RedisServer | undefined;
  let controller: ControllerProcess | undefined;
  const stop = async () => {
    await controller?.stop().catch(() => undefined);
    await redis?.stop().catch(() => undefined);
    dirs.remove();
  };
  try {
    if (store === 'redis') redis = await startRedisServer();
    const adminToken = `bench-admin-${randomBytes(16).toString('hex')}`;
    controller = await spawnBenchController(dirs, { REDIS_URL: redis?.url ?? '', REDIS_PREFIX: 'bench', ADMIN_TOKEN: adminToken, LOG_LEVEL: 'info' });
    const url = controller.url;
    const admin = adminCaller(url, adminToken);
    const imported = await admin('POST', `/api/admin/environments/${ENV}/import`, fixture);
    if (imported.status !== 200) throw new Error(`import failed: ${imported.status} ${JSON.stringify(imported.body).slice(0, 500)}`);
    const token = await admin('POST', '/api/admin/tokens', { kind: 'client', environment: ENV, name: 'bench-client' });
    if (token.status !== 201) throw new Error(`token creation failed: ${token.status} ${JSON.stringify(token.body)}`);
    return { store, url, pid: controller.child.pid!, adminToken, clientSecret: token.body.secret, admin, stop };
  } catch (err) {
    const output = controller?.output().slice(-2000);
    await stop();
    throw output ? new Error(`${(err as Error).message}\ncontroller output:\n${output}`) : err;
  }
}

/** JSON requests to a controller with one token: status and parsed body. */
export function adminCaller(url: string, token: string): Stack['admin'] {
  return async (method, route, body) => {
    const res = await fetch(`${url}${route}`, {
      method,
      headers: { Authorization: token, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux only; undefined elsewhere). */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return undefined;
  }
}

/** The "Max open files" soft and hard limits of a process, from /proc (undefined when unknown). */
export function openFileLimits(pid: number | 'self'): { soft: string; hard: string } | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const [soft, hard] = line!.replace('Max open files', '').trim().split(/\s+/);
    return { soft: soft!, hard: hard! };
  } catch {
    return undefined;
  }
}

/** Starts bench/reference-server.ts (bare node:http serving the given bytes) as its own process. */
export async function startReference(gzip: Buffer, json: Buffer, tag: string): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rc-bench-ref-'));
  writeFileSync(path.join(dir, 'body.gz'), gzip);
  writeFileSync(path.join(dir, 'body.json'), json);
  return startPortPrinter('reference-server.ts', [path.join(dir, 'body.gz'), path.join(dir, 'body.json'), tag], {}, () =>
    rmSync(dir, { recursive: true, force: true }),
  );
}

/**
 * Starts a bench script (`node --import tsx bench/<script>`) as its own process and waits for the
 * port it prints on stdout once listening; `cleanup` runs after it has stopped.
 */
export async function startPortPrinter(
  script: string,
  args: string[],
  env: Record<string, string>,
  cleanup: () => void = () => {},
): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, script), ...args], {
    cwd: path.resolve(import.meta.dirname, '..'),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    cleanup();
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${script} did not start within 10 s`)), 10_000);
      child.stdout!.once('data', (d: Buffer) => (clearTimeout(timer), resolve(Number(d.toString().trim()))));
      child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`${script} exited with ${code}`))));
    });
    return { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Pins every thread of a process to one CPU with taskset; false when that is not possible here. */
export function pinToCpu(pid: number, cpu: number): boolean {
  if (os.cpus().length < 2) return false; // not availableParallelism(): it shrinks once we are pinned
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
