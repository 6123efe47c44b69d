import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/redis-server.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

/** What the image's runtime stage holds besides node_modules (deploy/Dockerfile). */
const SHIPPED = ['package.json', 'package-lock.json', 'dist', 'flags', 'policies'];
const SERVER = 'dist/controller.js';
const CLI = 'dist/rolloutctl.js';
const DASHBOARD = ['index.html', 'app.js', 'app.css', 'icon.svg'].map((f) => `dist/ui/${f}`);
/** The bundler, the compiler and the TypeScript loader: build tools, never in what ships. */
const BUILD_TOOLS = ['tsx', 'esbuild', '@esbuild', 'typescript', '@typescript', 'vitest'];

/**
 * The controller as it ships: the built JavaScript beside production dependencies only
 * (`npm ci --omit=dev --ignore-scripts`, as the image's deps stage runs it), in a directory of its
 * own with no sources and no node_modules above it, started with plain `node`, on the embedded
 * store. It must get ready and serve the dashboard, and stop cleanly on SIGTERM.
 */
describe('the production build', () => {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'rc-prod-'));
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(scratch, { recursive: true, force: true });
  });

  it('runs with node and production dependencies only, and serves the dashboard', async () => {
    // Built by `npm ci` (prepare) and again before every test run (test/support/global-build.ts).
    for (const file of [SERVER, ...DASHBOARD, CLI]) {
      expect(existsSync(path.join(ROOT, file)), `${file} is missing: run \`npm run build\``).toBe(true);
    }
    for (const entry of SHIPPED) cpSync(path.join(ROOT, entry), path.join(scratch, entry), { recursive: true });
    // Nothing above the scratch directory could lend it a package the install left out.
    for (let dir = path.dirname(scratch); ; dir = path.dirname(dir)) {
      expect(existsSync(path.join(dir, 'node_modules')), `${dir}/node_modules would be found by the built server`).toBe(false);
      if (path.dirname(dir) === dir) break;
    }

    const install = await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: scratch,
      timeout: 120_000,
      env: { ...process.env, NODE_ENV: 'production' },
    }).catch((err: { message: string; stdout?: string; stderr?: string }) => {
      throw new Error(`npm ci --omit=dev failed in ${scratch}: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`);
    });
    expect(install.stderr).not.toMatch(/\bERR!/);

    const modules = path.join(scratch, 'node_modules');
    const installed = readdirSync(modules);
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const dep of Object.keys(pkg.dependencies)) expect(existsSync(path.join(modules, dep)), `${dep} was installed`).toBe(true);
    expect(
      installed.filter((name) => BUILD_TOOLS.includes(name)),
      'build tools in the production node_modules',
    ).toEqual([]);
    expect(existsSync(path.join(modules, '.bin', 'tsx'))).toBe(false);
    expect(existsSync(path.join(scratch, 'src'))).toBe(false);

    const port = await freePort();
    const dataDir = path.join(scratch, 'data');
    mkdirSync(dataDir);
    // A container's environment: no REDIS_URL (the embedded store in DATA_DIR), no loader in NODE_OPTIONS.
    child = spawn(process.execPath, [SERVER], {
      cwd: scratch,
      env: { PATH: process.env.PATH ?? '', HOME: scratch, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`node ${SERVER} exited with ${child.exitCode}:\n${output}`);
      if (Date.now() > deadline) throw new Error(`node ${SERVER} not ready within 20 s:\n${output}`);
      if (
        await fetch(`${url}/readyz`).then(
          (r) => r.status === 200,
          () => false,
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 100));
    }

    const page = await fetch(`${url}/`);
    expect(page.status, output).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('<script type="module" src="/ui/app.js"></script>');
    const script = await fetch(`${url}/ui/app.js`);
    expect(script.status, output).toBe(200);
    expect(script.headers.get('content-type')).toContain('text/javascript');
    const body = await script.text();
    expect(body).toContain('/api/admin/me');
    expect(body).toBe(readFileSync(path.join(scratch, 'dist/ui/app.js'), 'utf8'));
    for (const [file, type] of [
      ['app.css', 'text/css'],
      ['icon.svg', 'image/svg+xml'],
    ] as const) {
      const res = await fetch(`${url}/ui/${file}`);
      expect(res.status, `/ui/${file}`).toBe(200);
      expect(res.headers.get('content-type')).toContain(type);
    }

    // rolloutctl, on the image's PATH, runs from the same production node_modules.
    const cli = await run(process.execPath, [CLI, '--help'], { cwd: scratch, env: { PATH: process.env.PATH ?? '' }, timeout: 20_000 });
    expect(cli.stdout).toContain('rolloutctl');

    // The embedded store's lock (an OS lock through a native addon whose binary ships in its package,
    // so --ignore-scripts builds nothing) works in the shipped build: a second controller is refused.
    const second = await run(process.execPath, [SERVER], {
      cwd: scratch,
      env: { PATH: process.env.PATH ?? '', HOME: scratch, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(await freePort()), DATA_DIR: dataDir },
      timeout: 20_000,
    }).then(
      () => 'exited 0',
      (err: { stdout?: string; stderr?: string }) => `${err.stdout ?? ''}${err.stderr ?? ''}`,
    );
    expect(second).toMatch(/failed to start: embedded store directory .* is in use: another process holds the lock/);

    // Plain node is the image's PID 1: the controller's own SIGTERM handler drains and exits 0.
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited, output).toBe(0);
  }, 180_000);
});
