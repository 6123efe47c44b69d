import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

/**
 * Where Redis is, as REDIS_URL says it. One URL names any of the three topologies ioredis knows:
 *
 *   redis://[user:pass@]host:6379[/db]               one server (rediss:// for TLS), as ioredis reads it
 *   redis+sentinel://[user:pass@]h1:26379,h2:26379/<masterName>[?db=N&sentinelUsername=…&sentinelPassword=…]
 *   redis+cluster://[user:pass@]h1:7000,h2:7001      a Redis Cluster (any reachable nodes; the rest are discovered)
 *
 * `rediss+sentinel://` and `rediss+cluster://` use TLS to every node (and to the Sentinels).
 * Credentials in the user part are those of the data nodes; Sentinels have their own in the query.
 * A URL stays one string so that deploy files, secrets and the config schema treat every topology alike.
 */
export type RedisTopology =
  | { kind: 'single'; url: string }
  | ({ kind: 'sentinel'; sentinels: HostPort[]; masterName: string; db: number; sentinelUsername?: string; sentinelPassword?: string } & Credentials)
  | ({ kind: 'cluster'; nodes: HostPort[] } & Credentials);

export interface HostPort {
  host: string;
  port: number;
}

interface Credentials {
  username?: string;
  password?: string;
  tls: boolean;
}

/** A REDIS_URL that cannot be used. The message never repeats the URL: it may hold a password. */
export class RedisUrlError extends Error {}

export type RedisClient = Redis | Cluster;

const MULTI_HOST = /^(rediss?)\+(sentinel|cluster):\/\/(?:([^@/?#]*)@)?([^/?#]*)(?:\/([^?#]*))?(?:\?([^#]*))?$/;
const DEFAULT_PORT = { sentinel: 26379, cluster: 6379 } as const;
const QUERY_KEYS = { sentinel: ['db', 'sentinelUsername', 'sentinelPassword'], cluster: [] as string[] } as const;

export function parseRedisUrl(url: string): RedisTopology {
  if (/^rediss?:\/\//.test(url)) return { kind: 'single', url };
  const m = MULTI_HOST.exec(url);
  if (!m) throw new RedisUrlError('expected redis://host:port, redis+sentinel://host:port,…/<masterName> or redis+cluster://host:port,… (rediss for TLS)');
  const [, scheme, kindText, userinfo, hostList, path = '', queryText = ''] = m;
  const kind = kindText as 'sentinel' | 'cluster';
  const credentials: Credentials = { tls: scheme === 'rediss', ...parseUserinfo(userinfo) };
  const hosts = hostList!.split(',').map((h, i) => parseHostPort(h, i, DEFAULT_PORT[kind]));
  const query = new URLSearchParams(queryText);
  for (const key of query.keys()) {
    if (!(QUERY_KEYS[kind] as readonly string[]).includes(key)) {
      throw new RedisUrlError(`unknown option "${key}" for ${kind} (known: ${QUERY_KEYS[kind].join(', ') || 'none'})`);
    }
  }
  if (kind === 'cluster') {
    if (path !== '') throw new RedisUrlError('a cluster URL has no path: Redis Cluster has only database 0');
    return { kind, nodes: hosts, ...credentials };
  }
  const masterName = decodeURIComponent(path);
  if (!/^[^/\s]+$/.test(masterName)) throw new RedisUrlError('a sentinel URL names the master after the hosts: redis+sentinel://host:26379,…/<masterName>');
  const dbText = query.get('db') ?? '0';
  if (!/^\d{1,5}$/.test(dbText)) throw new RedisUrlError('db must be a database number');
  return {
    kind,
    sentinels: hosts,
    masterName,
    db: Number(dbText),
    ...credentials,
    ...optional('sentinelUsername', query.get('sentinelUsername')),
    ...optional('sentinelPassword', query.get('sentinelPassword')),
  };
}

function optional<K extends string>(key: K, value: string | null): Partial<Record<K, string>> {
  return value === null ? {} : ({ [key]: value } as Record<K, string>);
}

function parseUserinfo(userinfo: string | undefined): Pick<Credentials, 'username' | 'password'> {
  if (!userinfo) return {};
  const colon = userinfo.indexOf(':');
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new RedisUrlError('the user or password is not correctly percent-encoded');
    }
  };
  if (colon < 0) return { username: decode(userinfo) };
  const username = decode(userinfo.slice(0, colon));
  return { ...(username ? { username } : {}), password: decode(userinfo.slice(colon + 1)) };
}

function parseHostPort(text: string, index: number, defaultPort: number): HostPort {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+)(?::(\d{1,5}))?$/.exec(text);
  // Not echoed: a password with an unencoded "@" would end up in the host part.
  if (!m) throw new RedisUrlError(`host ${index + 1} is not host:port (hosts are separated by commas; encode "@" in a password as %40)`);
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (port < 1 || port > 65535) throw new RedisUrlError(`port ${port} is out of range`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

/** For logs: the topology without credentials. */
export function describeTopology(t: RedisTopology): string {
  const hosts = (list: HostPort[]) => list.map((h) => `${h.host}:${h.port}`).join(',');
  switch (t.kind) {
    case 'single': {
      const parsed = URL.canParse(t.url) ? new URL(t.url) : undefined;
      return parsed ? `server ${parsed.host}` : 'server';
    }
    case 'sentinel':
      return `master "${t.masterName}" via sentinels ${hosts(t.sentinels)}`;
    case 'cluster':
      return `cluster seeded by ${hosts(t.nodes)}`;
  }
}

/** How one connection behaves; the store opens a few (shared commands, confirmed writes, each follower). */
export interface ConnectionTuning {
  autoPipelining: boolean;
  maxRetriesPerRequest: number;
  /** A command must not wait forever while Redis is away: callers report the store as down instead. */
  commandTimeoutMs: number;
}

/**
 * Builds a client for the topology with what the store relies on everywhere: RESP2 (ioredis 6 would
 * otherwise negotiate RESP3, and the parsing of XREAD via call() and of Lua's false expects RESP2
 * shapes) and a lazy connect (the store awaits the first connect itself, so a bad address fails start-up).
 */
export function createRedisClient(topology: RedisTopology, tuning: ConnectionTuning): RedisClient {
  const common: RedisOptions = {
    lazyConnect: true,
    protocol: 2,
    maxRetriesPerRequest: tuning.maxRetriesPerRequest,
    enableAutoPipelining: tuning.autoPipelining,
    commandTimeout: tuning.commandTimeoutMs,
    // A master that was demoted by a failover answers writes with READONLY while it still accepts
    // connections: reconnect (through the Sentinels, to the new master) and resend the command.
    reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
  };
  const client = build(topology, common);
  // Errors surface through rejected commands; without a listener ioredis would also print them.
  client.on('error', () => {});
  return client;
}

function build(topology: RedisTopology, common: RedisOptions): RedisClient {
  switch (topology.kind) {
    case 'single':
      return new Redis(topology.url, common);
    case 'sentinel':
      return new Redis({
        ...common,
        sentinels: topology.sentinels,
        name: topology.masterName,
        role: 'master',
        db: topology.db,
        username: topology.username,
        password: topology.password,
        sentinelUsername: topology.sentinelUsername,
        sentinelPassword: topology.sentinelPassword,
        ...(topology.tls ? { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true } : {}),
      });
    case 'cluster': {
      const { lazyConnect, enableAutoPipelining, ...nodeOptions } = common;
      const options: ClusterOptions = {
        lazyConnect,
        enableAutoPipelining,
        // Every key of a deployment shares one hash slot; reads and writes both go to its master.
        scaleReads: 'master',
        redisOptions: {
          ...nodeOptions,
          username: topology.username,
          password: topology.password,
          ...(topology.tls ? { tls: {} } : {}),
        },
      };
      return new Cluster(topology.nodes, options);
    }
  }
}

/** Closes a client without waiting for Redis to come back. */
export async function closeClient(client: RedisClient): Promise<void> {
  if (client.status !== 'ready') {
    // QUIT would sit in the offline queue until Redis returns; a stopping replica must not wait for that.
    client.disconnect();
    return;
  }
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}

/** What is wrong with a REDIS_URL, in words that never repeat it (it may hold a password); undefined when usable. */
export function redisUrlProblem(url: string): string | undefined {
  try {
    parseRedisUrl(url);
    return undefined;
  } catch (err) {
    if (err instanceof RedisUrlError) return err.message;
    throw err;
  }
}
