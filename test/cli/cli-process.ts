import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** Runs the built rolloutctl (dist/rolloutctl.js, the package's bin) as its own process. */

const ROOT = path.resolve(import.meta.dirname, '../..');
export const CLI = path.join(ROOT, 'dist/rolloutctl.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/**
 * Builds the binary with the package's own build:cli script (what `npm ci` runs through prepare)
 * when it is missing or older than any source file, so the tests always run what would ship.
 */
export function ensureCliBuilt(): void {
  if (
    existsSync(CLI) &&
    statSync(CLI).mtimeMs >= newestSource(path.join(ROOT, 'src')) &&
    statSync(CLI).mtimeMs >= statSync(path.join(ROOT, 'package.json')).mtimeMs
  )
    return;
  execFileSync('npm', ['run', '--silent', 'build:cli'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Spawns `node dist/rolloutctl.js …` asynchronously: the controller under test runs in this
 * process, so a blocking spawn would leave it unable to answer.
 */
export function runCli(
  args: string[],
  env: Record<string, string | undefined> = {},
  options: { stopWhen?: (stdout: string) => boolean } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      // Only what the test gives: no CONTROLLER_URL or ROLLOUT_TOKEN leaks in from the shell.
      env: { PATH: process.env.PATH, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      // A command that runs until interrupted (status --watch) is stopped, as a person would, with SIGINT.
      if (options.stopWhen?.(stdout)) child.kill('SIGINT');
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
