import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { describeTopology, parseRedisUrl } from '../../src/store/redis-connection.js';

/** REDIS_URL's three forms, and the one-line configuration errors for the ones that cannot work. */

describe('REDIS_URL forms', () => {
  it.each([
    ['redis://127.0.0.1:6379/2', { kind: 'single', url: 'redis://127.0.0.1:6379/2' }],
    ['rediss://user:pw@redis.example:6380', { kind: 'single', url: 'rediss://user:pw@redis.example:6380' }],
    [
      'redis+sentinel://s1:26379,s2,10.0.0.3:26380/mymaster',
      {
        kind: 'sentinel',
        sentinels: [
          { host: 's1', port: 26379 },
          { host: 's2', port: 26379 },
          { host: '10.0.0.3', port: 26380 },
        ],
        masterName: 'mymaster',
        db: 0,
        tls: false,
      },
    ],
    [
      'rediss+sentinel://app:p%40ss@[::1]:26379/cache?db=3&sentinelPassword=sp&sentinelUsername=watch',
      {
        kind: 'sentinel',
        sentinels: [{ host: '::1', port: 26379 }],
        masterName: 'cache',
        db: 3,
        tls: true,
        username: 'app',
        password: 'p@ss',
        sentinelUsername: 'watch',
        sentinelPassword: 'sp',
      },
    ],
    ['redis+sentinel://:secret@s1/m', { kind: 'sentinel', sentinels: [{ host: 's1', port: 26379 }], masterName: 'm', db: 0, tls: false, password: 'secret' }],
    [
      'redis+cluster://n1:7000,n2:7001',
      {
        kind: 'cluster',
        nodes: [
          { host: 'n1', port: 7000 },
          { host: 'n2', port: 7001 },
        ],
        tls: false,
      },
    ],
    ['rediss+cluster://u:p@n1', { kind: 'cluster', nodes: [{ host: 'n1', port: 6379 }], tls: true, username: 'u', password: 'p' }],
  ])('%s', (url, expected) => {
    expect(parseRedisUrl(url)).toEqual(expected);
  });

  it('describes a topology for logs without its credentials', () => {
    expect(describeTopology(parseRedisUrl('redis://u:topsecret@h:1'))).toBe('server h:1');
    expect(describeTopology(parseRedisUrl('redis+sentinel://:topsecret@a:1,b:2/m'))).toBe('master "m" via sentinels a:1,b:2');
    expect(describeTopology(parseRedisUrl('redis+cluster://:topsecret@a:1'))).toBe('cluster seeded by a:1');
  });
});

describe('a REDIS_URL that cannot work stops start-up with one line naming the variable', () => {
  const error = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
    throw new Error('expected a configuration error');
  };

  it.each([
    ['http://h:6379', /^invalid configuration: REDIS_URL: expected redis:\/\/host:port/],
    ['redis+sentinel://:topsecret@s1:26379', /^invalid configuration: REDIS_URL: a sentinel URL names the master/],
    ['redis+cluster://:topsecret@n1:7000/1', /^invalid configuration: REDIS_URL: a cluster URL has no path/],
    ['redis+cluster://:topsecret@n1:7000?db=1', /^invalid configuration: REDIS_URL: unknown option "db" for cluster/],
    ['redis+sentinel://:topsecret@s1/m?db=x', /^invalid configuration: REDIS_URL: db must be a database number/],
    ['redis+sentinel://:topsecret@s1:99999/m', /^invalid configuration: REDIS_URL: port 99999 is out of range/],
    ['redis+cluster://:topsecret@n1:7000,,n2', /^invalid configuration: REDIS_URL: host 2 is not host:port/],
    ['redis+cluster://u:top@secret@n1:7000', /^invalid configuration: REDIS_URL: host 1 is not host:port/],
  ])('%s', (url, message) => {
    const line = error({ REDIS_URL: url });
    expect(line).toMatch(message);
    expect(line).not.toContain('\n');
    expect(line).not.toMatch(/topsecret|secret@/);
  });

  it('checks the WAIT settings', () => {
    expect(error({ REDIS_WAIT_REPLICAS: '-1' })).toMatch(/^invalid configuration: REDIS_WAIT_REPLICAS: /);
    expect(error({ REDIS_WAIT_TIMEOUT_MS: '0' })).toMatch(/^invalid configuration: REDIS_WAIT_TIMEOUT_MS: /);
    expect(loadConfig({ REDIS_URL: 'redis+sentinel://s1/m', REDIS_WAIT_REPLICAS: '1' })).toMatchObject({ REDIS_WAIT_REPLICAS: 1, REDIS_WAIT_TIMEOUT_MS: 1000 });
  });
});
