import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freePort } from '../prometheus/prometheus-server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * What an application gets: `import … from 'rollout-controller/sdk'` resolves through the package's
 * "exports" to the compiled bundle (built by `prepare`), which must work in plain Node, no tsx.
 */
describe('the SDK helper as a package export', () => {
  it('builds to dist/sdk.js with type declarations, and imports by the package name in plain Node', async () => {
    execFileSync('npm', ['run', '--silent', 'build:sdk'], { cwd: ROOT, stdio: 'pipe' });
    expect(existsSync(path.join(ROOT, 'dist/sdk.js'))).toBe(true);
    expect(existsSync(path.join(ROOT, 'dist/sdk-types/sdk/index.d.ts'))).toBe(true);

    const script = `
      import { createRolloutClient } from 'rollout-controller/sdk';
      const guard = createRolloutClient({
        url: 'http://127.0.0.1:${await freePort()}', appName: 'packaged', token: 'unused', onError: () => {},
        backupPath: ${JSON.stringify(mkdtempSync(path.join(os.tmpdir(), 'rc-sdk-pkg-')))},
        bootstrap: { features: [{ name: 'on', enabled: true, strategies: [{ name: 'default', parameters: {}, constraints: [] }] }] },
      });
      const source = await guard.ready(300);
      console.log(JSON.stringify([source, guard.isEnabled('on'), guard.isEnabled('off')]));
      await guard.close();
    `;
    // NODE_ENV=test (set by vitest) makes the stock client keep its retry timers referenced, so a
    // process would linger after close(); an application runs without it.
    const env = { ...process.env, NODE_ENV: 'production' };
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', env, timeout: 20_000 });
    expect(JSON.parse(out.trim())).toEqual(['fallback', true, false]);
  });
});
