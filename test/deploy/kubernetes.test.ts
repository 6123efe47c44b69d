import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRedisUrl } from '../../src/store/redis-connection.js';
import { loadConfig } from '../../src/config/config.js';
import { DEPLOY, expectValidControllerEnv, yamlDocuments, yamlFile } from './deploy-files.js';
import { openProbePaths } from './probe-routes.js';

/**
 * deploy/kubernetes checked as the API server and kustomize would see it (no cluster here): the
 * kinds a highly available deployment needs, and references between them that resolve.
 */
const DIR = 'deploy/kubernetes';
const kustomization = yamlFile(`${DIR}/kustomization.yaml`);
const objects: any[] = (kustomization.resources as string[]).flatMap((file) => yamlDocuments(`${DIR}/${file}`));
const ofKind = (kind: string) => objects.filter((o) => o.kind === kind);
const one = (kind: string) => {
  expect(ofKind(kind), kind).toHaveLength(1);
  return ofKind(kind)[0]!;
};
const deployment = one('Deployment');
const pod = deployment.spec.template.spec;
const container = pod.containers[0];

/** The shipped Secret's ADMIN_TOKEN is a placeholder; a deployment replaces it with a real one. */
const REAL_ADMIN_TOKEN = 'a-real-secret-0123456789abcdef0123456789abcdef';

/** The environment the container gets: ConfigMap and Secret by envFrom, then its own env (literal values). */
function containerEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const ref = source.configMapRef ?? source.secretRef;
    const kind = source.configMapRef ? 'ConfigMap' : 'Secret';
    const target = ofKind(kind).find((o) => o.metadata.name === ref.name);
    expect(target, `envFrom ${kind} ${ref.name}`).toBeDefined();
    Object.assign(env, target.data ?? {}, target.stringData ?? {});
  }
  for (const e of container.env ?? []) env[e.name] = e.value ?? (e.valueFrom?.fieldRef ? 'pod-name' : '');
  return { ...env, ADMIN_TOKEN: REAL_ADMIN_TOKEN };
}

const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('deploy/kubernetes', () => {
  it('lists every manifest in kustomization.yaml, each a well-formed object', () => {
    const files = readdirSync(path.join(DEPLOY, 'kubernetes')).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(files.sort());
    for (const o of objects) {
      expect(o.apiVersion, JSON.stringify(o).slice(0, 80)).toMatch(/^(v1|apps\/v1|policy\/v1)$/);
      expect(o.metadata?.name).toMatch(/^[a-z0-9-]+$/);
    }
  });

  it('has the kinds a highly available deployment needs', () => {
    for (const kind of ['Deployment', 'Service', 'PodDisruptionBudget', 'Secret', 'ConfigMap']) expect(ofKind(kind).length, kind).toBeGreaterThanOrEqual(1);
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  it('keeps the secrets in the Secret, with a Redis URL the controller understands', () => {
    const secret = one('Secret');
    const values = { ...secret.data, ...secret.stringData };
    expect(Object.keys(values).sort()).toEqual(['ADMIN_TOKEN', 'REDIS_URL']);
    expect(parseRedisUrl(values.REDIS_URL).kind).toBe('sentinel');
    // Applied unchanged, the placeholder stops start-up instead of becoming a published admin token.
    expect(() => loadConfig({ ADMIN_TOKEN: values.ADMIN_TOKEN })).toThrow(/^invalid configuration: ADMIN_TOKEN: /);
    expect(Object.keys(one('ConfigMap').data)).not.toEqual(expect.arrayContaining(['ADMIN_TOKEN']));
    expect(Object.keys(one('ConfigMap').data)).not.toEqual(expect.arrayContaining(['REDIS_URL']));
  });

  it('gives the controller only variables it reads, with values it accepts, on the port it listens on', () => {
    const config = expectValidControllerEnv(`${DIR} container env`, containerEnv());
    expect(container.ports.map((p: any) => p.containerPort)).toEqual([config.PORT]);
    // The image's own command, which the Dockerfile tests hold to the README's.
    expect(container.command).toBeUndefined();
    expect(container.args).toBeUndefined();
    // Flag files come from the optional ConfigMap mount, never from the examples in the image.
    const flags = container.volumeMounts.find((m: any) => m.mountPath === config.FLAGS_DIR);
    expect(pod.volumes.find((v: any) => v.name === flags?.name)?.configMap).toMatchObject({ optional: true });
  });

  it('probes readiness on /readyz and liveness on /healthz, paths a controller answers without a token', async () => {
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    const probes = [container.readinessProbe, container.livenessProbe, container.startupProbe].filter(Boolean);
    for (const probe of probes) expect(container.ports.map((p: any) => p.name)).toContain(probe.httpGet.port);
    // Readiness rides out a Sentinel failover (about 5-15 s) before a replica leaves the Service.
    expect(container.readinessProbe.periodSeconds * container.readinessProbe.failureThreshold).toBeGreaterThanOrEqual(20);
    const answers = await openProbePaths([...new Set(probes.map((p: any) => p.httpGet.path as string))]);
    expect(answers).toEqual({ '/readyz': 200, '/healthz': 200 });
  });

  it('sets resource requests and limits, and leaves time for a graceful stop', () => {
    for (const key of ['cpu', 'memory']) {
      expect(container.resources.requests[key], `requests.${key}`).toBeDefined();
      expect(container.resources.limits[key], `limits.${key}`).toBeDefined();
    }
    const config = expectValidControllerEnv(DIR, containerEnv());
    const preStopSeconds = Number(container.lifecycle?.preStop?.exec?.command?.at(-1) ?? 0);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(preStopSeconds + config.SHUTDOWN_TIMEOUT_MS / 1000);
  });

  it('runs as non-root on a read-only root filesystem with a writable /tmp', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
    const tmp = container.volumeMounts.find((m: any) => m.mountPath === '/tmp');
    expect(pod.volumes.find((v: any) => v.name === tmp?.name)?.emptyDir).toBeDefined();
  });

  it('selects the pods from the Service and the disruption budget, and routes to the named port', () => {
    const labels = deployment.spec.template.metadata.labels;
    expect(matches(deployment.spec.selector.matchLabels, labels)).toBe(true);
    const service = one('Service');
    expect(matches(service.spec.selector, labels)).toBe(true);
    expect(container.ports.map((p: any) => p.name)).toContain(service.spec.ports[0].targetPort);
    const pdb = one('PodDisruptionBudget');
    expect(matches(pdb.spec.selector.matchLabels, labels)).toBe(true);
    // The budget must leave at least one replica up, and must not block every drain.
    const maxUnavailable = pdb.spec.maxUnavailable ?? deployment.spec.replicas - pdb.spec.minAvailable;
    expect(maxUnavailable).toBeGreaterThanOrEqual(1);
    expect(maxUnavailable).toBeLessThan(deployment.spec.replicas);
  });
});
