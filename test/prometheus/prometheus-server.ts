import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { Counter, Registry } from 'prom-client';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * A real Prometheus (Debian's `prometheus` package) for the integration test: its own temporary
 * storage, its own loopback port, scraping the given targets every second. Missing or failing to
 * start is an error, never a skip: `npm test` installs it first (scripts/ensure-tool.sh).
 */

export interface RunningPrometheus {
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startPrometheus(targets: string[], timeoutMs = 20_000): Promise<RunningPrometheus> {
  if (spawnSync('prometheus', ['--version']).error) {
    throw new Error('prometheus is not installed; run: bash scripts/ensure-tool.sh prometheus prometheus');
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rc-prometheus-'));
  const config = path.join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: app',
      '    static_configs:',
      `      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const child = spawn(
    'prometheus',
    [`--config.file=${config}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited with code ${child.exitCode} before it was ready:\n${stderr}`);
    }
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return { url, process: child, stop };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`prometheus was not ready within ${timeoutMs} ms:\n${stderr}`);
}

/** Requests an app serves on every scrape, per flag and cohort: so many succeed, so many fail. */
export type ScrapedTraffic = Array<[flag: string, cohort: string, ok: number, failed: number]>;

export interface ScrapedApp {
  /** host:port, for Prometheus' targets. */
  target: string;
  /** How many times Prometheus scraped it. */
  scrapes(): number;
  close(): Promise<void>;
}

/**
 * A tiny application for Prometheus to scrape: a prom-client counter `app_requests_total{flag,
 * cohort,status}` that gains a fixed batch on every scrape, so rate() over any window gives exactly
 * the error rate the traffic says.
 */
export async function startScrapedApp(traffic: ScrapedTraffic): Promise<ScrapedApp> {
  const registry = new Registry();
  const requests = new Counter({
    name: 'app_requests_total',
    help: 'Requests served, per flag, cohort and status',
    labelNames: ['flag', 'cohort', 'status'] as const,
    registers: [registry],
  });
  let scrapes = 0;
  const app = http.createServer(async (req, res) => {
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    scrapes += 1;
    for (const [flag, cohort, ok, failed] of traffic) {
      requests.inc({ flag, cohort, status: '200' }, ok);
      requests.inc({ flag, cohort, status: '500' }, failed);
    }
    res.writeHead(200, { 'Content-Type': registry.contentType }).end(await registry.metrics());
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  return {
    target: `127.0.0.1:${(app.address() as net.AddressInfo).port}`,
    scrapes: () => scrapes,
    close: async () => {
      app.closeAllConnections();
      await new Promise((resolve) => app.close(resolve));
    },
  };
}
