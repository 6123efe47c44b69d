import http from 'node:http';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Unleash, UnleashEvents } from 'unleash-client';
import { openStream, type RawStream } from './sse-reader.js';
import { machineBusySeconds } from './http-load.js';
import { processCpuSeconds } from './stack.js';

export interface KillLatencyOptions {
  url: string;
  adminToken: string;
  clientSecret: string;
  /**
   * The SDKs' own client token: applications hold tokens of their own, and the 1,000 raw streams
   * already fill one token's stream allowance (STREAMS_PER_TOKEN, 1,000 by default).
   */
  sdkSecret: string;
  env: string;
  flag: string;
  streams: number;
  sdks: number;
  ops: number;
  spacingMs: number;
  serverPid: number;
}

export interface Percentiles {
  samples: number;
  p50: number;
  p99: number;
  max: number;
}

export interface KillLatencyResult {
  streams: number;
  sdks: number;
  ops: number;
  spacingMs: number;
  connect: {
    ms: number;
    failed: number;
    /** Controller CPU per stream opened (each gets a full hydration), and descriptors in use after. */
    serverCpuMsPerStream?: number;
    serverFds?: number;
    benchFds?: number;
    /** GET /healthz, polled one at a time while the streams were opening: how long the controller's event loop stalls. */
    healthzDuringConnect: Percentiles;
  };
  raw: Percentiles & { missing: number; unexpected: number; closedDuringRun: number };
  sdk: Percentiles & { missing: number; unexpected: number; warnings: string[] };
  adminRoundTrip: Percentiles & { failed: number };
  /** CPU during the kill/restore phase, in % of one core: controller, bench process, rest of machine. */
  cpu: { serverPct?: number; serverMsPerOp?: number; benchPct: number; otherPct?: number };
}

/** Who receives an op: a raw stream or an SDK. `got[i]` is op i's latency in ms. */
interface Receiver {
  got: Array<number | undefined>;
  unexpected: number;
}

interface CurrentOp {
  index: number;
  expectEnabled: boolean;
  t0: number;
  pending: number;
  done: () => void;
}

export function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);
  const r = (n: number) => Math.round(n * 10) / 10;
  return { samples: sorted.length, p50: r(at(0.5)), p99: r(at(0.99)), max: r(sorted[sorted.length - 1] ?? NaN) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function measureKillLatency(opts: KillLatencyOptions): Promise<KillLatencyResult> {
  let current: CurrentOp | undefined;
  const receive = (receiver: Receiver, enabled: boolean, at: number) => {
    const op = current;
    if (!op || enabled !== op.expectEnabled || receiver.got[op.index] !== undefined) {
      receiver.unexpected++;
      return;
    }
    receiver.got[op.index] = at - op.t0;
    if (--op.pending === 0) op.done();
  };

  const raws: RawStream[] = [];
  const sdks: Array<{ client: Unleash; receiver: Receiver; dir: string }> = [];
  const warnings: string[] = [];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    // 1. Open the raw streams, 50 at a time (each gets a full hydration of every flag on connect).
    const t0 = performance.now();
    const connectCpu0 = processCpuSeconds(opts.serverPid);
    let failed = 0;
    let connecting = true;
    const probe = probeLoop(agent, opts.url, () => connecting);
    for (let i = 0; i < opts.streams; i += 50) {
      const batch = Array.from({ length: Math.min(50, opts.streams - i) }, (_, j) =>
        openStream(opts.url, opts.clientSecret, opts.flag, `bench-raw-${i + j}`, (s, enabled, at) => receive(s, enabled, at)),
      );
      for (const result of await Promise.allSettled(batch)) {
        if (result.status === 'fulfilled') raws.push(result.value);
        else failed++;
      }
    }
    const connectMs = Math.round(performance.now() - t0);
    const connectCpu = diff(processCpuSeconds(opts.serverPid), connectCpu0);
    connecting = false;
    const healthzDuringConnect = percentiles(await probe);

    // 2. Start real SDKs in streaming mode; each reports when isEnabled(flag) flips.
    for (let i = 0; i < opts.sdks; i++) {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'rc-bench-sdk-'));
      const client = new Unleash({
        url: `${opts.url}/api/`,
        appName: `bench-sdk-${i}`,
        instanceId: `bench-sdk-${i}`,
        disableMetrics: true,
        backupPath: dir,
        customHeaders: { Authorization: opts.sdkSecret },
        experimentalMode: { type: 'streaming' },
        skipInstanceCountWarning: true,
      });
      const receiver: Receiver = { got: [], unexpected: 0 };
      sdks.push({ client, receiver, dir });
      client.on(UnleashEvents.Error, (err) => warnings.push(`sdk ${i} error: ${String(err)}`.slice(0, 200)));
      client.on(UnleashEvents.Warn, (msg) => warnings.push(`sdk ${i} warn: ${String(msg)}`.slice(0, 200)));
      await Promise.race([
        new Promise((resolve) => client.once(UnleashEvents.Synchronized, resolve)),
        sleep(10_000).then(() => Promise.reject(new Error(`SDK ${i} did not synchronize within 10 s`))),
      ]);
      if (!client.isEnabled(opts.flag)) throw new Error(`SDK ${i} sees ${opts.flag} disabled before the first kill`);
      let last = true;
      client.on(UnleashEvents.Changed, () => {
        const at = performance.now();
        const enabled = client.isEnabled(opts.flag);
        if (enabled !== last) {
          last = enabled;
          receive(receiver, enabled, at);
        }
      });
    }
    const serverFds = countFds(opts.serverPid);
    await sleep(500); // let connect-time work (hydrations, SDK registration) settle

    // 3. Kill / restore, spaced `spacingMs` apart; each op waits (at most 3 s) for every receiver.
    const receivers: Receiver[] = [...raws, ...sdks.map((s) => s.receiver)];
    const adminMs: number[] = [];
    let adminFailed = 0;
    const cpu0 = { server: processCpuSeconds(opts.serverPid), self: process.cpuUsage(), machine: machineBusySeconds(), at: performance.now() };
    for (let i = 0; i < opts.ops; i++) {
      const kill = i % 2 === 0;
      let done!: () => void;
      const all = new Promise<void>((resolve) => (done = resolve));
      const start = performance.now();
      current = { index: i, expectEnabled: !kill, t0: start, pending: receivers.length, done };
      const res = await post(agent, opts, `/api/admin/flags/${encodeURIComponent(opts.flag)}/environments/${opts.env}/${kill ? 'kill' : 'restore'}`);
      adminMs.push(performance.now() - start);
      if (res.status !== 200 || res.body?.changed !== true) adminFailed++;
      await Promise.race([all, sleep(3_000)]);
      await sleep(Math.max(0, opts.spacingMs - (performance.now() - start)));
    }
    current = undefined;
    const wallS = (performance.now() - cpu0.at) / 1000;
    const serverS = diff(processCpuSeconds(opts.serverPid), cpu0.server);
    const selfUsage = process.cpuUsage(cpu0.self);
    const selfS = (selfUsage.user + selfUsage.system) / 1e6;
    const machineS = diff(machineBusySeconds(), cpu0.machine);
    const cpu = {
      serverPct: serverS === undefined ? undefined : Math.round((serverS / wallS) * 100),
      serverMsPerOp: serverS === undefined ? undefined : Math.round((serverS / opts.ops) * 1e4) / 10,
      benchPct: Math.round((selfS / wallS) * 100),
      otherPct: machineS === undefined || serverS === undefined ? undefined : Math.max(0, Math.round(((machineS - serverS - selfS) / wallS) * 100)),
    };

    const collect = (rs: Receiver[]) => {
      const latencies: number[] = [];
      let missing = 0;
      for (const r of rs) for (let i = 0; i < opts.ops; i++) r.got[i] === undefined ? missing++ : latencies.push(r.got[i]!);
      return { ...percentiles(latencies), missing, unexpected: rs.reduce((n, r) => n + r.unexpected, 0) };
    };
    return {
      streams: opts.streams,
      sdks: opts.sdks,
      ops: opts.ops,
      spacingMs: opts.spacingMs,
      connect: {
        ms: connectMs,
        failed,
        serverCpuMsPerStream: connectCpu === undefined ? undefined : Math.round((connectCpu / opts.streams) * 1e4) / 10,
        serverFds,
        benchFds: countFds('self'),
        healthzDuringConnect,
      },
      raw: { ...collect(raws), closedDuringRun: raws.filter((r) => r.closed).length },
      sdk: { ...collect(sdks.map((s) => s.receiver)), warnings: warnings.slice(0, 10) },
      adminRoundTrip: { ...percentiles(adminMs), failed: adminFailed },
      cpu,
    };
  } finally {
    for (const raw of raws) raw.close();
    for (const sdk of sdks) {
      sdk.client.destroy();
      rmSync(sdk.dir, { recursive: true, force: true });
    }
    agent.destroy();
  }
}

function post(agent: http.Agent, opts: KillLatencyOptions, route: string): Promise<{ status: number; body: any }> {
  const body = JSON.stringify({ reason: 'kill-latency bench' });
  return new Promise((resolve, reject) => {
    const req = http.request(`${opts.url}${route}`, {
      method: 'POST',
      agent,
      headers: { Authorization: opts.adminToken, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('admin request timed out')));
    req.end(body);
  });
}

function diff(after: number | undefined, before: number | undefined): number | undefined {
  return after === undefined || before === undefined ? undefined : after - before;
}

/** Sequential GET /healthz while `active()`; returns each round trip (ms). */
async function probeLoop(agent: http.Agent, url: string, active: () => boolean): Promise<number[]> {
  const samples: number[] = [];
  while (active()) {
    const start = performance.now();
    await new Promise<void>((resolve) => {
      const req = http.get(`${url}/healthz`, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      });
      req.on('error', () => resolve());
    });
    samples.push(performance.now() - start);
    await sleep(10);
  }
  return samples;
}

function countFds(pid: number | 'self'): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}
