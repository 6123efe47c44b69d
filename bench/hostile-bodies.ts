/**
 * Measures what hostile bodies cost a controller process (issue 13, defects 1 and 2):
 *
 *   1. a 10 MB POST /api/client/register with a client token, `{"appName":"a","strategies":[1,1,…]}`
 *      (5 million wrong entries): time to the answer, the answer's size, the process's peak RSS, and
 *      the slowest /healthz answered meanwhile;
 *   2. 50 connections without a token, each sending most of a 9 MB body and never finishing it:
 *      the process's RSS while they are in flight, and how many were answered or closed.
 *
 * The controller runs as its own process from the source tree given (default: this one), on the
 * embedded store in a scratch directory, so the same script measures another checkout read-only:
 *
 *   npx tsx bench/hostile-bodies.ts [--root /path/to/checkout] [--json]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const MB = 1024 * 1024;
const ADMIN_TOKEN = `bench-admin-${Date.now()}-token`;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Resident and peak resident memory of a process, in MB (Linux /proc). */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

async function startController(root: string) {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'rc-hostile-'));
  const environmentsFile = path.join(scratch, 'environments.yaml');
  writeFileSync(environmentsFile, 'environments:\n  - name: production\n');
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(port),
      REDIS_URL: '',
      DATA_DIR: path.join(scratch, 'data'),
      FLAGS_DIR: scratch,
      POLICIES_DIR: scratch,
      ENVIRONMENTS_FILE: environmentsFile,
      ADMIN_TOKEN,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (
    !(await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`controller did not start:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const stop = async () => {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    rmSync(scratch, { recursive: true, force: true });
  };
  return { url, port, pid: child.pid!, stop };
}

/** Samples the process's RSS every 20 ms until stopped; returns the highest seen. */
function sampleRss(pid: number) {
  let max = memoryOf(pid).rss;
  const timer = setInterval(() => {
    try {
      max = Math.max(max, memoryOf(pid).rss);
    } catch {
      // the process is gone
    }
  }, 20);
  return { stop: () => (clearInterval(timer), max) };
}

/** The slowest /healthz answer while `during` runs (probed every 100 ms, one at a time). */
function probeHealth(url: string) {
  let slowest = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      await fetch(`${url}/healthz`).catch(() => undefined);
      slowest = Math.max(slowest, performance.now() - started);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return slowest;
    },
  };
}

function post(url: string, route: string, body: string | Buffer, token?: string): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${route}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...(token ? { Authorization: token } : {}) },
    });
    req.on('response', (res) => {
      let bytes = 0;
      res.on('data', (d: Buffer) => (bytes += d.length));
      res.on('end', () => resolve({ status: res.statusCode!, bytes }));
      res.on('error', reject);
    });
    // A server that answers before reading the whole body may close the connection while this still
    // writes: the answer, if it came, is what counts.
    let answered = false;
    req.on('response', () => (answered = true));
    req.on('error', (err) => setTimeout(() => answered || reject(err), 1_000));
    req.end(body);
  });
}

async function registerBody(url: string, pid: number, clientToken: string) {
  const entries = 5_000_000;
  const body = `{"appName":"a","strategies":[${'1,'.repeat(entries - 1)}1]}`;
  const before = memoryOf(pid);
  const rss = sampleRss(pid);
  const health = probeHealth(url);
  const started = performance.now();
  const answer = await post(url, '/api/client/register', body, clientToken);
  const ms = performance.now() - started;
  return {
    bodyMB: Number((body.length / MB).toFixed(1)),
    status: answer.status,
    ms: Math.round(ms),
    answerBytes: answer.bytes,
    rssBeforeMB: Math.round(before.rss),
    // VmHWM: the highest RSS since the process started, which the request's peak is (start-up takes far less).
    peakRssMB: Math.round(Math.max(rss.stop(), memoryOf(pid).peak)),
    slowestHealthzMs: Math.round(await health.stop()),
  };
}

/** 50 sockets, each sending headers for 9 MB and then all of it but the last kilobyte, never finishing. */
async function unauthenticatedBodies(port: number, pid: number) {
  const connections = 50;
  const declared = 9 * MB;
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  const before = memoryOf(pid).rss;
  const rss = sampleRss(pid);
  const answers: Record<string, number> = {};
  let closedByServer = 0;
  let sentBytes = 0;
  const sockets = await Promise.all(
    Array.from({ length: connections }, async () => {
      const socket = net.connect(port, '127.0.0.1');
      await new Promise((r) => socket.once('connect', r));
      socket.on('data', (d) => {
        const status = /^HTTP\/1\.1 (\d{3})/.exec(d.toString('latin1'))?.[1];
        if (status) answers[status] = (answers[status] ?? 0) + 1;
      });
      socket.on('error', () => undefined);
      socket.on('close', () => closedByServer++);
      socket.write(`POST /api/client/metrics HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n`);
      // Write until all but the last kilobyte is out, or the server stops taking it.
      void (async () => {
        let sent = 0;
        while (sent < declared - 1024 && !socket.destroyed) {
          const piece = chunk.subarray(0, Math.min(chunk.length, declared - 1024 - sent));
          const more = socket.write(piece);
          sent += piece.length;
          sentBytes += piece.length;
          if (!more) {
            const drained = await Promise.race([
              new Promise((r) => socket.once('drain', () => r(true))),
              new Promise((r) => setTimeout(() => r(false), 2_000)),
            ]);
            if (!drained) break;
          }
        }
      })();
      return socket;
    }),
  );
  // Long enough for every body to be sent (or refused) and for the process to hold what it keeps.
  await new Promise((r) => setTimeout(r, 8_000));
  const inFlight = memoryOf(pid).rss;
  const peak = rss.stop();
  const stillOpen = sockets.filter((s) => !s.destroyed).length;
  for (const socket of sockets) socket.destroy();
  return {
    connections,
    declaredMBEach: 9,
    sentMB: Math.round(sentBytes / MB),
    rssBeforeMB: Math.round(before),
    rssInFlightMB: Math.round(inFlight),
    peakRssMB: Math.round(peak),
    answers,
    closedByServer,
    stillOpen,
  };
}

async function main(): Promise<void> {
  const root = path.resolve(arg('--root') ?? path.join(import.meta.dirname, '..'));
  const results: Record<string, unknown> = { root };
  // Separate processes, so that neither measurement inherits the other's heap.
  {
    const controller = await startController(root);
    try {
      const res = await fetch(`${controller.url}/api/admin/tokens`, {
        method: 'POST',
        headers: { Authorization: ADMIN_TOKEN, 'Content-Type': 'application/json' },
        body: JSON.stringify({ kind: 'client', environment: 'production', name: 'bench' }),
      });
      const { secret } = (await res.json()) as { secret: string };
      results.register10MB = await registerBody(controller.url, controller.pid, secret);
    } finally {
      await controller.stop();
    }
  }
  {
    const controller = await startController(root);
    try {
      results.unauthenticated9MB = await unauthenticatedBodies(controller.port, controller.pid);
    } finally {
      await controller.stop();
    }
  }
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  else console.dir(results, { depth: 3 });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
