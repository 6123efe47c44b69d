import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRedisUrl } from '../../src/store/redis-connection.js';
import { DEPLOY, expectFileExists, expectValidControllerEnv, read, ROOT, yamlFile } from './deploy-files.js';

/**
 * deploy/compose.yaml checked as `docker compose config` would (no Docker engine here): the stack
 * it describes must hang together, and every file it mounts must exist.
 */
const FILE = 'deploy/compose.yaml';
const compose = yamlFile(FILE);
const services = compose.services as Record<string, any>;

const commandOf = (s: any): string[] => (Array.isArray(s.command) ? s.command : String(s.command ?? '').split(/\s+/));
const controllers = Object.entries(services).filter(([, s]) => s.build?.dockerfile === 'deploy/Dockerfile');
const sentinels = Object.entries(services).filter(([, s]) => commandOf(s).join(' ').includes('--sentinel'));
const redisServers = Object.entries(services).filter(([, s]) => commandOf(s)[0] === 'redis-server' && !commandOf(s).includes('--sentinel'));
const replicas = redisServers.filter(([, s]) => commandOf(s).includes('--replicaof'));
const primaries = redisServers.filter(([, s]) => !commandOf(s).includes('--replicaof'));

/** host path (relative to deploy/) → container path, for every bind mount of a service. */
function bindMounts(s: any): Array<{ host: string; container: string }> {
  return ((s.volumes ?? []) as string[])
    .filter((v) => typeof v === 'string' && v.startsWith('.'))
    .map((v) => {
      const [host, container] = v.split(':');
      return { host: path.relative(ROOT, path.resolve(DEPLOY, host!)), container: container! };
    });
}

/** The Sentinel template's `sentinel monitor <name> <host> <port> <quorum>`. */
function sentinelMonitor(): { name: string; host: string; port: number; quorum: number } {
  const mount = bindMounts(sentinels[0]![1]).find((m) => m.container.endsWith('sentinel.conf'));
  expect(mount, 'the Sentinels mount their configuration').toBeDefined();
  const line = read(mount!.host)
    .split('\n')
    .find((l) => l.startsWith('sentinel monitor '));
  const [, , name, host, port, quorum] = line!.split(/\s+/);
  return { name: name!, host: host!, port: Number(port), quorum: Number(quorum) };
}

describe('deploy/compose.yaml', () => {
  it('runs two controller replicas from deploy/Dockerfile with the repository as build context', () => {
    expect(controllers.length).toBeGreaterThanOrEqual(2);
    for (const [, s] of controllers) {
      expect(path.resolve(DEPLOY, s.build.context)).toBe(ROOT);
      expectFileExists(s.build.dockerfile, 'build.dockerfile');
    }
  });

  it('gives the controllers only variables they read, with values they accept, on the port they publish', () => {
    const replicaIds = new Set<string>();
    for (const [name, s] of controllers) {
      const config = expectValidControllerEnv(`${FILE} ${name}`, s.environment);
      const published = (s.ports as string[]).map((p) => Number(p.split(':').at(-1)));
      expect(published, `${name} publishes the port it listens on`).toEqual([config.PORT]);
      replicaIds.add(config.REPLICA_ID!);
      expect(s.ulimits?.nofile?.soft, `${name}: one descriptor per SDK stream`).toBeGreaterThanOrEqual(65536);
    }
    expect(replicaIds.size, 'each replica has its own REPLICA_ID').toBe(controllers.length);
  });

  it('puts Redis behind three Sentinels that watch the primary, with a replica to promote', () => {
    expect(sentinels.length).toBeGreaterThanOrEqual(3);
    expect(primaries.map(([n]) => n)).toHaveLength(1);
    expect(replicas.length).toBeGreaterThanOrEqual(1);
    const [primaryName] = primaries[0]!;
    for (const [, s] of replicas)
      expect(commandOf(s).slice(commandOf(s).indexOf('--replicaof') + 1, commandOf(s).indexOf('--replicaof') + 3)).toEqual([primaryName, '6379']);
    const monitor = sentinelMonitor();
    expect(monitor).toMatchObject({ host: primaryName, port: 6379 });
    // A majority of the Sentinels must agree before a failover.
    expect(monitor.quorum).toBeGreaterThan(sentinels.length / 2);
    expect(monitor.quorum).toBeLessThanOrEqual(sentinels.length);
  });

  it('points every controller at those Sentinels and that master set, waiting for no more replicas than exist', () => {
    const monitor = sentinelMonitor();
    for (const [name, s] of controllers) {
      const topology = parseRedisUrl(s.environment.REDIS_URL);
      expect(topology.kind, name).toBe('sentinel');
      if (topology.kind !== 'sentinel') continue;
      expect(topology.masterName).toBe(monitor.name);
      expect(topology.sentinels.map((h) => h.host).sort()).toEqual(sentinels.map(([n]) => n).sort());
      expect(topology.sentinels.every((h) => h.port === 26379)).toBe(true);
      expect(Number(s.environment.REDIS_WAIT_REPLICAS ?? 0)).toBeLessThanOrEqual(replicas.length);
      for (const dependency of Object.keys(s.depends_on ?? {})) expect(Object.keys(services)).toContain(dependency);
    }
  });

  it('mounts only files that exist', () => {
    const mounts = Object.values(services).flatMap(bindMounts);
    expect(mounts.length).toBeGreaterThan(0);
    for (const m of mounts) expectFileExists(m.host, `${FILE} mounts it at ${m.container}`);
  });

  it('has Prometheus scrape both controllers with the alert rules, and Grafana load the dashboard from it', () => {
    const prometheus = bindMounts(services.prometheus);
    const configMount = prometheus.find((m) => m.container === '/etc/prometheus/prometheus.yml')!;
    const config = yamlFile(configMount.host);
    const targets = config.scrape_configs.flatMap((j: any) => (j.static_configs ?? []).flatMap((c: any) => c.targets));
    const port = (name: string) => expectValidControllerEnv(name, services[name].environment).PORT;
    expect(targets.sort()).toEqual(controllers.map(([n]) => `${n}:${port(n)}`).sort());
    for (const rules of config.rule_files as string[]) {
      expect(
        prometheus.map((m) => m.container),
        `rule file ${rules} is mounted beside the configuration`,
      ).toContain(path.posix.resolve('/etc/prometheus', rules));
    }
    const grafana = bindMounts(services.grafana);
    const dashboard = grafana.find((m) => m.host === 'deploy/grafana/dashboard.json');
    expect(dashboard?.container.startsWith('/var/lib/grafana/dashboards/')).toBe(true);
    const provider = yamlFile(grafana.find((m) => m.container.startsWith('/etc/grafana/provisioning/dashboards/'))!.host);
    expect(provider.providers[0].options.path).toBe('/var/lib/grafana/dashboards');
    const datasource = yamlFile(grafana.find((m) => m.container.startsWith('/etc/grafana/provisioning/datasources/'))!.host).datasources[0];
    expect(datasource).toMatchObject({ type: 'prometheus', url: `http://prometheus:${services.prometheus.ports[0].split(':').at(-1)}` });
    // Every data source the dashboard names is the provisioned one, or a data-source variable of its
    // own that picks a Prometheus source (the provisioned one is the default).
    const board = JSON.parse(read('deploy/grafana/dashboard.json'));
    const variables = new Map<string, any>((board.templating?.list ?? []).map((v: any) => [v.name, v]));
    const uids = new Set([...JSON.stringify(board).matchAll(/"datasource":\{[^}]*"uid":"([^"]+)"/g)].map((m) => m[1]!));
    expect(uids.size).toBeGreaterThan(0);
    for (const uid of uids) {
      const variable = /^\$\{(\w+)\}$/.exec(uid)?.[1];
      if (variable) expect(variables.get(variable), `dashboard variable ${variable}`).toMatchObject({ type: 'datasource', query: 'prometheus' });
      else expect(uid).toBe(datasource.uid);
    }
    expect(datasource.isDefault).toBe(true);
  });
});
