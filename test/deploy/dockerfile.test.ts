import { existsSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/config.js';
import {
  dockerInstructions,
  execForm,
  expectFileExists,
  expectValidControllerEnv,
  keyValues,
  read,
  readmeRunCommand,
  ROOT,
  startScript,
  type DockerInstruction,
} from './deploy-files.js';
import { openProbePaths } from './probe-routes.js';

/** deploy/Dockerfile read line by line, as `docker build` would, without a Docker engine. */
const FILE = 'deploy/Dockerfile';
const all = dockerInstructions(FILE);

/** Instructions per stage, the stage named by `FROM image AS name`. */
function stages(): Array<{ from: string; name?: string; body: DockerInstruction[] }> {
  const args = keyValues(
    all
      .filter((i) => i.keyword === 'ARG' && all.indexOf(i) < all.findIndex((j) => j.keyword === 'FROM'))
      .map((i) => i.args)
      .join(' '),
  );
  const out: Array<{ from: string; name?: string; body: DockerInstruction[] }> = [];
  for (const i of all) {
    if (i.keyword === 'FROM') {
      const [image, as, name] = i.args.replace(/\$\{(\w+)\}/g, (_, v: string) => args[v] ?? '').split(/\s+/);
      out.push({ from: image!, name: as?.toUpperCase() === 'AS' ? name : undefined, body: [] });
    } else if (out.length > 0) out[out.length - 1]!.body.push(i);
  }
  return out;
}

const runtime = stages().at(-1)!;

/**
 * Packages the running controller imports: the import graph from the start script's entry file,
 * statically (type-only imports are erased and do not count).
 */
function packagesImportedFrom(entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = read(path.relative(ROOT, file));
    for (const m of source.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)|^import\s+'([^']+)'/gm)) {
      const spec = (m[1] ?? m[2] ?? m[3])!;
      if (spec.startsWith('.')) {
        const target = path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts'));
        expect(existsSync(target), `${path.relative(ROOT, file)} imports ${spec}`).toBe(true);
        visit(target);
      } else if (!spec.startsWith('node:') && !builtinModules.includes(spec)) {
        packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
      }
    }
  };
  visit(path.join(ROOT, entry));
  return packages;
}
const last = (keyword: string) => runtime.body.filter((i) => i.keyword === keyword).at(-1);

describe('deploy/Dockerfile', () => {
  it('builds in stages: dependencies with npm ci, then a slim Node 20 runtime that copies from them', () => {
    const s = stages();
    expect(s.length).toBeGreaterThanOrEqual(2);
    expect(s.filter((x) => x.body.some((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args))).length).toBeGreaterThanOrEqual(1);
    expect(runtime.from).toMatch(/^node:20[.\w-]*-slim$/);
    expect(
      runtime.body.some((i) => i.keyword === 'RUN' && /\bnpm (ci|install)\b/.test(i.args)),
      'no install in the runtime stage',
    ).toBe(false);
    const copiedFrom = runtime.body
      .filter((i) => i.keyword === 'COPY')
      .map((i) => /--from=(\S+)/.exec(i.args)?.[1])
      .filter(Boolean);
    for (const name of copiedFrom) expect(s.slice(0, -1).map((x) => x.name)).toContain(name);
    expect(copiedFrom.length).toBeGreaterThan(0);
    // Production dependencies only in what ships.
    const depsStage = s.find((x) => x.name === copiedFrom.find((n) => runtime.body.some((i) => i.args.includes(`--from=${n} /app/node_modules`))));
    expect(depsStage?.body.some((i) => /npm ci .*--omit=dev/.test(i.args))).toBe(true);
  });

  it('ships every package the controller imports: production dependencies are all the runtime stage has', () => {
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    const entry = startScript().split(/\s+/).at(-1)!;
    const imported = packagesImportedFrom(entry);
    expect([...imported]).toEqual(expect.arrayContaining(['express', 'ioredis', 'zod', 'pino', 'prom-client']));
    expect([...imported].filter((p) => !(p in pkg.dependencies))).toEqual([]);
    // The dashboard is bundled at build time: no bundler, compiler or TypeScript loader ships.
    expect(imported).not.toContain('esbuild');
    expect(Object.keys(pkg.dependencies).filter((p) => ['esbuild', 'tsx', 'typescript'].includes(p))).toEqual([]);
  });

  it('copies only files that exist in the build context and that .dockerignore keeps', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const copy of all.filter((i) => i.keyword === 'COPY' && !i.args.includes('--from='))) {
      const sources = copy.args.split(/\s+/).slice(0, -1);
      for (const source of sources) {
        expectFileExists(source, `line ${copy.line}`);
        expect(ignored, `${source} is copied but .dockerignore drops it`).not.toContain(source);
      }
    }
  });

  it('runs as a non-root user, by number', () => {
    const user = last('USER');
    expect(user).toBeDefined();
    const [uid] = user!.args.split(':');
    expect(uid).toMatch(/^\d+$/);
    expect(Number(uid)).toBeGreaterThan(0);
    expect(runtime.body.indexOf(user!)).toBeGreaterThan(runtime.body.findLastIndex((i) => i.keyword === 'RUN'));
  });

  it('starts the built controller with node: what `npm run start:prod` runs, the bundle of what `npm start` runs', () => {
    const cmd = execForm(last('CMD')!);
    const readme = readmeRunCommand();
    expect(readme).toBe('npm start');
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(cmd).toEqual(scripts['start:prod']!.split(/\s+/));
    const [program, built] = cmd;
    expect(program).toBe('node');
    // `npm start` runs src/main.ts with tsx; `build:server` (part of `prepare`) bundles that same file into what CMD runs.
    const entry = startScript().split(/\s+/).at(-1)!;
    expect(scripts['build:server']).toMatch(new RegExp(`^esbuild ${entry} .*--outfile=${built}(\\s|$)`));
    expect(scripts.build).toContain('npm run build:server');
    expect(scripts.prepare).toBe('npm run build');
    expect(runtime.body.some((i) => i.keyword === 'ENTRYPOINT')).toBe(false);
  });

  it('ships built JavaScript only: no sources, no TypeScript configuration in the runtime stage', () => {
    const copied = runtime.body.filter((i) => i.keyword === 'COPY' && !i.args.includes('--from=')).flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(copied.filter((source) => /^src\b|tsconfig|\.ts$/.test(source))).toEqual([]);
    expect(runtime.body.some((i) => i.keyword === 'COPY' && i.args.startsWith('--from=build /app/dist '))).toBe(true);
  });

  it('sets only variables the controller reads, with values it accepts, and exposes its port', () => {
    const env = Object.assign({}, ...runtime.body.filter((i) => i.keyword === 'ENV').map((i) => keyValues(i.args))) as Record<string, string>;
    const config = expectValidControllerEnv(FILE, env);
    expect(runtime.body.filter((i) => i.keyword === 'EXPOSE').map((i) => Number(i.args))).toEqual([config.PORT]);
    expect(config.PORT).toBe(configSchema.parse({}).PORT);
  });

  it('checks health with Node (no curl in the slim image) on a path a controller answers without a token', async () => {
    const check = last('HEALTHCHECK')!;
    const cmd = JSON.parse(check.args.slice(check.args.indexOf('CMD') + 3).trim()) as string[];
    expect(cmd[0]).toBe('node');
    expect(cmd.join(' ')).not.toMatch(/\bcurl\b|\bwget\b/);
    const paths = [...cmd.join(' ').matchAll(/'(\/[a-z]+)'/g)].map((m) => m[1]!);
    expect(paths).toEqual(['/healthz']);
    expect(await openProbePaths(paths)).toEqual({ '/healthz': 200 });
  });
});
