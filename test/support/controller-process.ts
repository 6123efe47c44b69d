import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from './redis-server.js';
import { testEnvironmentsFile } from './environments.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface ControllerProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  /** Sends a signal and waits for the process to exit; returns its exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts the controller as its own process (`tsx src/main.ts [args]`, as `npm start` does) and waits until
 * /readyz is 200. The environments the tests use are declared unless `env` names its own ENVIRONMENTS_FILE.
 */
export async function spawnController(env: Record<string, string>, timeoutMs = 20_000, args: string[] = []): Promise<ControllerProcess> {
  const port = await freePort();
  // CONTROLLER_NODE_ARGS: Node options for the controller process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile a bench run (docs/performance.md).
  const nodeArgs = process.env.CONTROLLER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'src/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', ENVIRONMENTS_FILE: testEnvironmentsFile(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d.toString()));
  child.stderr!.on('data', (d) => (output += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`controller exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`controller not ready within ${timeoutMs} ms:\n${output}`);
    }
    const ready = await fetch(`${url}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    child,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      // A process ended by a signal has no exit code, only a signal code; either way it is gone.
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill(signal);
      return exited;
    },
  };
}

/** A fetch bound to one token, for tests that talk to controller processes. */
export function caller(token: string) {
  return (base: string, method: string, route: string, body?: unknown, as = token) =>
    fetch(`${base}${route}`, {
      method,
      headers: { Authorization: as, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
}
