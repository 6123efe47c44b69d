/**
 * The requests of the evaluation bench: one rotation of realistic contexts, each request with a
 * userId of its own (1, 2, 3, … in the order sent), sent the same way to the controller's frontend
 * API, its OFREP bulk route and the Unleash Proxy's frontend API. With wrk, bench/evaluation-load.lua
 * fills the user into templates written here; with autocannon, `next` builds the same request.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface BenchContext {
  appName: string;
  sessionId: string;
  remoteAddress: string;
  properties: Record<string, string>;
}

const APPS = ['web-frontend', 'mobile-ios', 'mobile-android', 'admin-portal'];
const REGIONS = ['eu-west-1', 'eu-central-1', 'us-east-1', 'us-west-2', 'ap-southeast-1'];
const PLANS = ['free', 'pro', 'team', 'enterprise'];
const DOMAINS = ['example.com', 'example.org', 'mail.test'];

/** Contexts like the ones the fixture's constraints look at (app, session, address, region, plan, email, version, age), without the user. */
export function realisticContexts(count: number): BenchContext[] {
  return Array.from({ length: count }, (_, i) => ({
    appName: APPS[i % APPS.length]!,
    sessionId: `sess-${(i * 104_729) % 1_000_000}`,
    remoteAddress: i % 3 === 0 ? `10.${i % 255}.${(i * 7) % 255}.${(i * 13) % 255}` : `192.168.${i % 3}.${(i * 11) % 255}`,
    properties: {
      region: REGIONS[i % REGIONS.length]!,
      plan: PLANS[(i * 3) % PLANS.length]!,
      email: `user${i}@${DOMAINS[i % DOMAINS.length]}`,
      appVersion: `${1 + (i % 5)}.${i % 20}.${i % 10}`,
      accountAgeDays: String((i * 37) % 400),
    },
  }));
}

/** The context as a frontend API query string (properties as properties[name]=value), without the user. */
function queryOf(context: BenchContext): string {
  const { properties, ...standard } = context;
  const params = new URLSearchParams(standard);
  for (const [name, value] of Object.entries(properties)) params.append(`properties[${name}]`, value);
  return params.toString();
}

/** The context as an OFREP request body, the user as targetingKey (here the placeholder the load generator fills). */
function ofrepBodyOf(context: BenchContext, user: string): string {
  const { properties, ...rest } = context;
  return JSON.stringify({ context: { targetingKey: user, ...rest, ...properties } });
}

/** How one target is loaded: the same rotation of contexts, as a query string or as a JSON body. */
export interface RequestPlan {
  label: string;
  route: string;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  /** The n-th request (from 1), for autocannon and for probes. */
  next(n: number): { path: string; body?: string };
  /** For wrk: the templates file and the arguments bench/evaluation-load.lua takes. */
  wrkScript: { path: string; args: string[] };
}

const LUA = path.join(import.meta.dirname, 'evaluation-load.lua');

/** The three plans (the proxy's first), and a way to remove the templates files they read. */
export function requestPlans(contexts: BenchContext[], secrets: { frontend: string; client: string; proxy: string }): { plans: RequestPlan[]; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rc-bench-eval-'));
  const queries = contexts.map(queryOf);
  const bodies = contexts.map((c) => ofrepBodyOf(c, '__USER__'));
  const queryFile = path.join(dir, 'queries.txt');
  const bodyFile = path.join(dir, 'bodies.txt');
  writeFileSync(queryFile, `${queries.join('\n')}\n`);
  writeFileSync(bodyFile, `${bodies.join('\n')}\n`);
  const at = (n: number) => (n - 1) % contexts.length;
  const getPlan = (label: string, route: string, basePath: string, secret: string): RequestPlan => ({
    label,
    route,
    method: 'GET',
    path: basePath,
    headers: { Authorization: secret },
    next: (n) => ({ path: `${basePath}?${queries[at(n)]}&userId=${n}` }),
    wrkScript: { path: LUA, args: [queryFile, 'query', 'GET', basePath] },
  });
  const plans: RequestPlan[] = [
    getPlan('Unleash Proxy 1.4 (GET /proxy, query-string context)', 'GET /proxy (Unleash Proxy)', '/proxy', secrets.proxy),
    getPlan('frontend API (GET, query-string context)', 'GET /api/frontend', '/api/frontend', secrets.frontend),
    {
      label: 'OFREP bulk (POST, JSON context)',
      route: 'POST /ofrep/v1/evaluate/flags',
      method: 'POST',
      path: '/ofrep/v1/evaluate/flags',
      headers: { Authorization: secrets.client, 'Content-Type': 'application/json' },
      next: (n) => ({ path: '/ofrep/v1/evaluate/flags', body: bodies[at(n)]!.replace('__USER__', String(n)) }),
      wrkScript: { path: LUA, args: [bodyFile, 'body', 'POST', '/ofrep/v1/evaluate/flags'] },
    },
  ];
  return { plans, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
