import { randomBytes } from 'node:crypto';
import { startRedisServer, type RedisServer } from '../test/support/redis-server.js';
import type { ControllerProcess } from '../test/support/controller-process.js';
import type { Fixture } from './fixture.js';
import { adminCaller, benchDirs, ENV, pinToCpu, spawnBenchController } from './stack.js';

/**
 * One redis-server and one or more controller replicas on it (as `npm start` runs them), loaded with
 * the bench fixture: bench/stack.ts's start-up, with replicas and the soak's settings. Replicas log
 * at `warn`, so what they print is what the report counts as trouble.
 */
export interface SoakReplica {
  url: string;
  pid: number;
  process: ControllerProcess;
}

export interface SoakStack {
  redis: RedisServer;
  replicas: SoakReplica[];
  adminToken: string;
  clientSecret: string;
  /** Admin calls go to replica 0 unless another is named. */
  admin(method: string, route: string, body?: unknown, replica?: number): Promise<{ status: number; body: any }>;
  /** Pinned: replicas and redis-server on CPU 1, this process on CPU 0. */
  pinned: boolean;
  stop(): Promise<void>;
}

export async function startSoakStack(opts: { replicas: number; fixture: Fixture; env: Record<string, string>; pin: boolean }): Promise<SoakStack> {
  const dirs = benchDirs('soak');
  const adminToken = `soak-admin-${randomBytes(16).toString('hex')}`;
  let redis: RedisServer | undefined;
  const replicas: SoakReplica[] = [];
  const stop = async () => {
    await Promise.allSettled(replicas.map((r) => r.process.stop()));
    await redis?.stop().catch(() => undefined);
    dirs.remove();
  };
  try {
    redis = await startRedisServer();
    for (let i = 0; i < opts.replicas; i++) {
      const controller = await spawnBenchController(dirs, {
        REDIS_URL: redis.url,
        REDIS_PREFIX: 'soak',
        REPLICA_ID: `soak-${i}`,
        ADMIN_TOKEN: adminToken,
        LOG_LEVEL: 'warn',
        ...opts.env,
      });
      replicas.push({ url: controller.url, pid: controller.child.pid!, process: controller });
    }
    const callers = replicas.map((r) => adminCaller(r.url, adminToken));
    const admin: SoakStack['admin'] = (method, route, body, replica = 0) => callers[replica % callers.length]!(method, route, body);
    const imported = await admin('POST', `/api/admin/environments/${ENV}/import`, opts.fixture);
    if (imported.status !== 200) throw new Error(`import failed: ${imported.status} ${JSON.stringify(imported.body).slice(0, 500)}`);
    const token = await admin('POST', '/api/admin/tokens', { kind: 'client', environment: ENV, name: 'soak-client' });
    if (token.status !== 201) throw new Error(`token creation failed: ${token.status} ${JSON.stringify(token.body)}`);
    const pinned = opts.pin && [...replicas.map((r) => r.pid), redis.process.pid!].every((pid) => pinToCpu(pid, 1)) && pinToCpu(process.pid, 0);
    return { redis, replicas, adminToken, clientSecret: token.body.secret, admin, pinned, stop };
  } catch (err) {
    const output = replicas.map((r) => r.process.output().slice(-2000)).join('\n');
    await stop();
    throw output ? new Error(`${(err as Error).message}\ncontroller output:\n${output}`) : err;
  }
}

/** Adds the soak's rollout flags (a flexibleRollout strategy at 0%, as a team would prepare a flag) to the fixture. */
export function withRolloutFlags(fixture: Fixture, names: string[]): Fixture {
  return {
    ...fixture,
    features: [
      ...fixture.features,
      ...names.map((name) => ({
        name,
        type: 'release',
        description: 'Rolled out again and again by the soak test',
        project: 'default',
        enabled: true,
        stale: false,
        impressionData: false,
        strategies: [
          { id: `soak-${name}`, name: 'flexibleRollout', sortOrder: 0, parameters: { rollout: '0', stickiness: 'default', groupId: name }, constraints: [] },
        ],
        variants: [],
      })),
    ],
  };
}
