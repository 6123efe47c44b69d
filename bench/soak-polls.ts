import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sdkHeaders, type LoadResult } from './http-load.js';
import { runWrk, wrkVersion } from './wrk-load.js';

/**
 * Polling SDKs at a steady rate: wrk (bench/wrk-load.ts) with a Lua script that waits between a
 * connection's answer and its next request (spreading requests evenly, as thousands of SDKs on their
 * own timers do) and sends the newest ETag it has seen in If-None-Match, so most polls are 304s and
 * each flag change costs one full answer per connection, as with real SDKs.
 *
 * wrk prints its latency distribution only at the end, so it runs in one-minute segments: each
 * segment is one minute of the report. The wait is tuned once before the soak (a short calibration)
 * and again after every segment, from the rate it reached.
 */
const SCRIPT = `
local wait, etag = 0, nil
function init(args) wait = tonumber(args[1]) end
-- wrk waits whole milliseconds: round up or down at random so the mean wait is the one asked for.
function delay()
  local whole = math.floor(wait)
  if math.random() < wait - whole then return whole + 1 end
  return whole
end
function request()
  local headers = {}
  for k, v in pairs(wrk.headers) do headers[k] = v end
  if etag then headers["If-None-Match"] = etag end
  return wrk.format(nil, nil, headers)
end
function response(status, headers, body)
  if status == 200 then etag = headers["ETag"] or headers["etag"] end
end
`;

export interface PollMinute {
  minute: number;
  requests: number;
  rps: number;
  /** The worst replica's figures (ms) when there are several. */
  p50: number;
  p99: number;
  max: number;
  errors: number;
  timeouts: number;
  /** Answers other than 2xx/3xx. */
  unexpected: number;
  /** Bytes received per second: near the 304s' headers alone shows the polls are conditional. */
  throughputMBps: number;
  /** wrk's own CPU, % of one core (all wrk processes together). */
  loadGenCpuPct: number;
}

export interface Poller {
  /** Runs `minutes` one-minute segments against every target at once (the rate split evenly), reporting each minute as it ends. */
  run(minutes: number, onMinute: (m: PollMinute) => void): Promise<PollMinute[]>;
  /** Ends after the segment in progress. */
  stop(): void;
  close(): void;
}

export async function createPoller(opts: { targets: string[]; secret: string; rps: number; connections: number }): Promise<Poller> {
  if (!wrkVersion()) throw new Error('the soak polls with wrk, which is not installed: run `npm run soak` (its presoak installs it) or apt-get install wrk');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rc-soak-wrk-'));
  const script = path.join(dir, 'poll.lua');
  writeFileSync(script, SCRIPT);
  const perTarget = opts.rps / opts.targets.length;
  const cycleMs = (opts.connections * 1000) / perTarget;
  // Each connection's cycle is its wait plus the time its request takes; start by guessing 1 ms for the latter.
  const waits = opts.targets.map(() => Math.max(0, cycleMs - 1));
  let stopped = false;
  const headers = sdkHeaders(opts.secret, { 'Accept-Encoding': 'gzip, deflate' });

  const segment = async (durationS: number): Promise<LoadResult[]> => {
    const results = await Promise.all(
      opts.targets.map((url, i) =>
        runWrk({
          label: 'poll',
          url,
          path: '/api/client/features',
          headers,
          connections: opts.connections,
          durationS,
          expectStatus: 200,
          script: { path: script, args: [waits[i]!.toFixed(3)] },
        }),
      ),
    );
    results.forEach((r, i) => {
      if (r.rps <= 0) return;
      const overhead = (opts.connections * 1000) / r.rps - waits[i]!;
      waits[i] = Math.max(0, cycleMs - overhead);
    });
    return results;
  };

  await segment(3); // calibration, not reported
  return {
    async run(minutes, onMinute) {
      const out: PollMinute[] = [];
      for (let minute = 0; minute < minutes && !stopped; minute++) {
        const results = await segment(60);
        const requests = results.reduce((n, r) => n + r.requests, 0);
        const m: PollMinute = {
          minute,
          requests,
          rps: results.reduce((n, r) => n + r.rps, 0),
          p50: Math.max(...results.map((r) => r.latency.p50)),
          p99: Math.max(...results.map((r) => r.latency.p99)),
          max: Math.max(...results.map((r) => r.latency.max)),
          errors: results.reduce((n, r) => n + r.errors, 0),
          timeouts: results.reduce((n, r) => n + r.timeouts, 0),
          unexpected: results.reduce((n, r) => n + r.unexpected, 0),
          throughputMBps: Math.round(results.reduce((n, r) => n + r.throughputMBps, 0) * 10) / 10,
          loadGenCpuPct: results.reduce((n, r) => n + r.loadGenCpuPct, 0),
        };
        out.push(m);
        onMinute(m);
      }
      return out;
    },
    stop: () => void (stopped = true),
    close: () => rmSync(dir, { recursive: true, force: true }),
  };
}
