import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort, startRedisServer, waitForPort, type RedisServer } from '../support/redis-server.js';

/**
 * Real Redis topologies on loopback for the HA tests: a master with replicas, Sentinels watching
 * it, a Cluster of masters. Every process gets its own port and temp dir; anything that does not
 * come up fails the test loudly. One Topology per test file holds everything it started, and
 * `stop()` ends all of it (continuing paused processes first, so none is left behind).
 */

export const MASTER_NAME = 'm';
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `probe` until it returns something other than undefined; throws naming `what` after `timeoutMs`. */
export async function waitUntil<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    await sleep(everyMs);
  }
}

/** Sends one command to one server (or Sentinel) on its own short-lived connection. */
export async function command(port: number, ...args: (string | number)[]): Promise<unknown> {
  const redis = new Redis({
    host: '127.0.0.1',
    port,
    protocol: 2,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    commandTimeout: 2000,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return await redis.call(String(args[0]), ...args.slice(1).map(String));
  } finally {
    redis.disconnect();
  }
}

/** "field:value" lines of INFO as a map. */
export async function info(port: number, section: string): Promise<Record<string, string>> {
  const text = String(await command(port, 'INFO', section));
  return Object.fromEntries(text.split('\r\n').flatMap((line) => (line.includes(':') ? [line.split(/:(.*)/s).slice(0, 2) as [string, string]] : [])));
}

export class Topology {
  private readonly servers: RedisServer[] = [];
  private readonly dirs: string[] = [];
  private readonly sentinels: Array<{ port: number; child: ReturnType<typeof spawn> }> = [];

  /** A data node: `--replicaof` makes it a replica, `cluster` a cluster node; `port` reuses an address. */
  async server(opts: { replicaOf?: number; cluster?: boolean; port?: number } = {}): Promise<RedisServer> {
    const args = [
      ...(opts.replicaOf ? ['--replicaof', '127.0.0.1', String(opts.replicaOf)] : []),
      // nodes.conf lands in the server's own temp dir (startRedisServer sets --dir).
      ...(opts.cluster ? ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '2000'] : []),
    ];
    const server = await startRedisServer(args, opts.port);
    this.servers.push(server);
    return server;
  }

  /** A master and `replicas` replicas, returned once every replica has finished its first sync. */
  async replicated(replicas: number): Promise<{ master: RedisServer; replicas: RedisServer[] }> {
    const master = await this.server();
    const started = await Promise.all(Array.from({ length: replicas }, () => this.server({ replicaOf: master.port })));
    await this.waitForReplicas(master.port, replicas);
    return { master, replicas: started };
  }

  /** Waits until `port` is a master with `count` replicas online. */
  async waitForReplicas(port: number, count: number, timeoutMs = 15_000): Promise<void> {
    await waitUntil(
      `${count} replica(s) online at 127.0.0.1:${port}`,
      async () => {
        const r = await info(port, 'replication');
        const online = Object.entries(r).filter(([k, v]) => /^slave\d+$/.test(k) && v.includes('state=online')).length;
        return r.role === 'master' && online >= count ? true : undefined;
      },
      timeoutMs,
    );
  }

  /**
   * `count` Sentinels watching the master on `masterPort` (quorum 2), with short timeouts so a
   * failover takes seconds. Returned once each knows the other Sentinels and `replicas` replicas,
   * which a failover needs (an election, and a replica to promote).
   */
  async sentinelSet(masterPort: number, opts: { count?: number; replicas: number }): Promise<{ ports: number[]; url: string }> {
    const count = opts.count ?? 3;
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      const dir = mkdtempSync(path.join(os.tmpdir(), 'rc-sentinel-'));
      this.dirs.push(dir);
      const conf = path.join(dir, 'sentinel.conf');
      // Sentinel rewrites its config file as it learns the topology, so each gets its own writable one.
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${masterPort} 2`,
          `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
          `sentinel failover-timeout ${MASTER_NAME} 4000`,
          `sentinel parallel-syncs ${MASTER_NAME} 1`,
          '',
        ].join('\n'),
      );
      const child = spawn('redis-server', [conf, '--sentinel'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout?.on('data', (d) => (output += d.toString()));
      child.stderr?.on('data', (d) => (output += d.toString()));
      this.sentinels.push({ port, child });
      try {
        await waitForPort(port, child, 10_000);
      } catch (err) {
        throw new Error(`sentinel on port ${port} did not start: ${(err as Error).message}\n${output.slice(-2000)}`);
      }
      ports.push(port);
    }
    for (const port of ports) {
      await waitUntil(
        `sentinel ${port} to see ${count - 1} sentinels and ${opts.replicas} replica(s)`,
        async () => {
          const peers = (await command(port, 'SENTINEL', 'SENTINELS', MASTER_NAME)) as unknown[];
          const replicas = (await command(port, 'SENTINEL', 'REPLICAS', MASTER_NAME)) as unknown[];
          return peers.length >= count - 1 && replicas.length >= opts.replicas ? true : undefined;
        },
        20_000,
        200,
      );
    }
    return { ports, url: `redis+sentinel://${ports.map((p) => `127.0.0.1:${p}`).join(',')}/${MASTER_NAME}` };
  }

  /** The master port the Sentinel on `sentinelPort` names now. */
  async masterPort(sentinelPort: number): Promise<number> {
    const [, port] = (await command(sentinelPort, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as [string, string];
    return Number(port);
  }

  /** A Redis Cluster of `masters` masters, each with `replicas` replicas, returned once every node reports the cluster ok. */
  async cluster(masters = 3, replicas = 0): Promise<{ nodes: RedisServer[]; url: string }> {
    const nodes = await Promise.all(Array.from({ length: masters * (1 + replicas) }, () => this.server({ cluster: true })));
    const create = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', String(replicas), '--cluster-yes'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed (${create.status}): ${create.stdout}\n${create.stderr}`);
    for (const node of nodes) {
      await waitUntil(
        `cluster node ${node.port} to report cluster_state:ok`,
        async () => (String(await command(node.port, 'CLUSTER', 'INFO')).includes('cluster_state:ok') ? true : undefined),
        15_000,
      );
      if (replicas > 0 && (await info(node.port, 'replication')).role === 'master') await this.waitForReplicas(node.port, replicas);
    }
    return { nodes, url: `redis+cluster://${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}` };
  }

  /** The ports of the master that owns `key`'s slot (as the cluster, asked on `port`, says) and of its replicas. */
  async slotOwner(port: number, key: string): Promise<{ master: number; replicas: number[] }> {
    const slot = Number(await command(port, 'CLUSTER', 'KEYSLOT', key));
    const ranges = (await command(port, 'CLUSTER', 'SLOTS')) as Array<[number, number, [string, number], ...Array<[string, number]>]>;
    const range = ranges.find(([from, to]) => from <= slot && slot <= to);
    if (!range) throw new Error(`no node owns slot ${slot}`);
    const master = Number(range[2][1]);
    // From the master itself: CLUSTER SLOTS may not list a replica yet while gossip catches up.
    const replication = await info(master, 'replication');
    const replicas = Object.entries(replication)
      .filter(([k]) => /^slave\d+$/.test(k))
      .map(([, v]) => Number(/port=(\d+)/.exec(v)![1]));
    return { master, replicas };
  }

  async stop(): Promise<void> {
    for (const s of this.servers) if (s.process.exitCode === null && s.process.signalCode === null) s.process.kill('SIGCONT');
    await Promise.all(this.servers.map((s) => s.stop()));
    await Promise.all(
      this.sentinels.map(({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return undefined;
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        return exited;
      }),
    );
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
  }
}
