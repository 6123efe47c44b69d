import { execFileSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * The controller and its dashboard as they ship, built from the sources under test before any test
 * runs: dist/ui/ (which the dashboard routes serve, from source as from the build) and
 * dist/controller.js (which test/process/production-build.test.ts runs with production dependencies
 * only). `npm ci` builds them too (`prepare`); building again here means an edit to src/ui/client is
 * never tested against an older bundle. esbuild takes well under a second for both.
 */
export function setup(): void {
  for (const script of ['build:server', 'build:ui']) {
    try {
      execFileSync('npm', ['run', '--silent', script], { cwd: ROOT, stdio: 'pipe', timeout: 60_000 });
    } catch (err) {
      const e = err as { stdout?: Buffer; stderr?: Buffer; message: string };
      throw new Error(`npm run ${script} failed: ${e.message}\n${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}`);
    }
  }
}
