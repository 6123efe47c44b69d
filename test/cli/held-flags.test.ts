import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { terminalSafe } from '../../src/cli/output.js';
import { startTestController, type TestController } from '../support/controller.js';
import { ensureCliBuilt, runCli } from './cli-process.js';

/**
 * rolloutctl and flags an import kept as Unleash had them (issue 17): names in any Unicode are
 * addressed and shown safely in a terminal, and export writes no file a flag file could not hold.
 */

const UTF8 = 'Feature.UTF-8.😊_φriend_你好_🌍';
/** A right-to-left override: shown raw, it would make the rest of the line read backwards. */
const BIDI = 'invoice\u202egnp.exe';
const ESCAPING = '../../escaped';

describe('terminalSafe', () => {
  it('writes characters that could move, recolour, reorder or hide text as visible escapes, and leaves the rest', () => {
    expect(terminalSafe(`${UTF8} ok`)).toBe(`${UTF8} ok`);
    expect(terminalSafe('👨\u200d👩\u200d👧 family')).toBe('👨\u200d👩\u200d👧 family');
    expect(terminalSafe(BIDI)).toBe('invoice\\u{202e}gnp.exe');
    expect(terminalSafe('red \u001b[31mALERT\u001b[0m')).toBe('red \\u{1b}[31mALERT\\u{1b}[0m');
    expect(terminalSafe('two\nlines\tand a tab, a carriage\rreturn')).toBe('two\nlines\tand a tab, a carriage\\u{d}return');
  });
});

describe('rolloutctl with held flags', () => {
  let t: TestController;
  beforeAll(async () => {
    ensureCliBuilt();
    t = await startTestController();
    const on = { enabled: true, strategies: [{ name: 'default' }], variants: [] };
    const features = ['exportable', UTF8, BIDI, ESCAPING].map((name) => ({ name, ...on }));
    expect((await t.api('POST', '/api/admin/environments/production/import', { features })).status).toBe(200);
  });
  afterAll(() => t?.stop());
  const cli = (args: string[]) => runCli(args, { CONTROLLER_URL: t.url, ROLLOUT_TOKEN: t.adminToken });

  it('kill and restore address a flag by any name, and say so in terminal-safe text', async () => {
    const killed = await cli(['kill', UTF8, '--env', 'production', '--reason', 'drill']);
    expect(killed.code, killed.stderr).toBe(0);
    expect(killed.stdout).toContain(`${UTF8} in production: killed (served disabled)`);
    const bidi = await cli(['kill', BIDI, '--env', 'production', '--reason', 'drill']);
    expect(bidi.stdout).toContain('invoice\\u{202e}gnp.exe in production: killed');
    expect(bidi.stdout).not.toContain('\u202e');
    expect((await cli(['restore', UTF8, '--env', 'production', '--reason', 'drill over'])).code).toBe(0);
    expect((await t.api('GET', `/api/admin/flags/${encodeURIComponent(UTF8)}`)).body.killSwitches).toEqual({});
  });

  it('export writes the flags a file can hold and names the others with the reason; nothing lands outside the directory', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'rolloutctl-held-'));
    const dir = path.join(root, 'a', 'flags');
    const res = await cli(['export', '-d', dir]);
    expect(res.code, res.stderr).toBe(0);
    expect(readdirSync(dir)).toEqual(['exportable.yaml']);
    expect(existsSync(path.join(dir, `${ESCAPING}.yaml`))).toBe(false);
    const authored = 'name: a flag name: letters, digits and _ . ~ - (at most 100)';
    expect(res.stderr).toContain(`not written: ${UTF8}: a flag file could not hold it (${authored}); it was imported as it came`);
    expect(res.stderr).toContain(`not written: ${ESCAPING}: a flag file could not hold it (${authored})`);
    expect(res.stderr).toContain('not written: invoice\\u{202e}gnp.exe:');
    expect(res.stderr).not.toContain('\u202e');
    const json = await cli(['export', '-d', dir, '--json']);
    expect(
      JSON.parse(json.stdout)
        .notWritable.map((r: { flag: string }) => r.flag)
        .sort(),
    ).toEqual([ESCAPING, BIDI, UTF8].sort());
  });
});
