import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyDir, startTestController, type TestController } from '../support/controller.js';
import { quickPolicy, runToCompletion } from '../support/fast-rollout.js';
import { adminPerson, auditEvents, FAST_ENV, type AdminPerson } from '../rollouts/scenario-helpers.js';
import { ensureCliBuilt, runCli, type CliResult } from './cli-process.js';

/**
 * rolloutctl apply against a flag a rollout has taken to 100%: the unchanged original file is
 * refused up front (nothing applied, exit 2) unless --force; rolloutctl export writes the served
 * state back so that applying it plans nothing.
 */

const ENV = 'production';
const FILE = (companion: string) => `# Checkout, as written before its rollout.
flags:
  - name: guarded
    description: ramped by a rollout
    environments:
      ${ENV}:
        enabled: false
        strategies:
          - name: flexibleRollout
            parameters: { rollout: "0", stickiness: userId, groupId: guarded }
  # Not ramped; only its description changes.
  - name: companion
    description: ${companion}
    environments:
      ${ENV}:
        enabled: true
        strategies:
          - { name: default }
`;

describe('rolloutctl apply guards what rollouts set; export writes it back', () => {
  let t: TestController;
  let editor: AdminPerson;
  let repo: string;
  const file = () => path.join(repo, 'flags/checkout.yaml');
  const cli = (args: string[]): Promise<CliResult> => runCli(args, { CONTROLLER_URL: t.url, ROLLOUT_TOKEN: editor.secret });
  const flag = async (name: string) => (await t.api('GET', `/api/admin/flags/${name}`)).body;
  const rolloutOf = async (name: string) => (await flag(name)).environments[ENV].strategies[0].parameters.rollout;

  beforeAll(async () => {
    ensureCliBuilt();
    t = await startTestController({ env: { ...FAST_ENV, POLICIES_DIR: emptyDir() } });
    editor = await adminPerson(t, 'editor', 'Erin Editor');
    expect((await t.api('PUT', '/api/admin/policies/quick', quickPolicy('quick'))).status).toBe(201);
    repo = mkdtempSync(path.join(os.tmpdir(), 'rolloutctl-guard-'));
    mkdirSync(path.join(repo, 'flags'));
    writeFileSync(file(), FILE('first'));
  });
  afterAll(() => t?.stop());

  it('refuses the unchanged original file after a completed rollout: nothing applied, exit 2; --force applies it', async () => {
    expect((await cli(['apply', '-f', repo, '--yes'])).code).toBe(0);
    const done = await runToCompletion(t, 'guarded', ENV, 'quick');
    expect(await rolloutOf('guarded')).toBe('100');
    writeFileSync(file(), FILE('second'));

    const line = `  ! flag guarded in ${ENV}: the file disables the environment (serves 0%), rollout ${done.id} (completed) set 100%`;
    const refused = await cli(['apply', '-f', repo, '--yes']);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toContain(`${line}; refused unless --force`);
    expect(refused.stdout).toContain('nothing will be applied unless --force');
    expect(refused.stderr).toContain('1 flag change(s) would undo what a rollout set; nothing was applied (pass --force to apply anyway)');
    expect(refused.stderr).not.toContain('applied flag');
    // Nothing at all changed, not even the flag beside it.
    expect(await rolloutOf('guarded')).toBe('100');
    expect((await flag('companion')).description).toBe('first');

    const dry = await cli(['apply', '-f', repo, '--dry-run', '--json']);
    expect(dry.code).toBe(2);
    expect(JSON.parse(dry.stdout).changes.find((c: any) => c.name === 'guarded').refused).toEqual([
      { flag: 'guarded', environment: ENV, rolloutId: done.id, rolloutState: 'completed', rolloutPercentage: 100, newPercentage: 0, change: 'disabled' },
    ]);

    const forced = await cli(['apply', '-f', repo, '--yes', '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain(`${line}; applied anyway (--force)`);
    expect(await rolloutOf('guarded')).toBe('0');
    expect((await flag('companion')).description).toBe('second');
    const put = (await auditEvents(t)).filter((e) => e.action === 'flag.put' && e.target.id === 'guarded').at(-1);
    expect(put.reason).toBe(`rolloutctl apply ${file()} (forced over rollout ${done.id} at 100% in ${ENV})`);
  });

  it('export writes the served state into the file that holds the flag; applying it right after plans nothing', async () => {
    const done = await runToCompletion(t, 'guarded', ENV, 'quick');
    expect((await cli(['apply', '-f', repo, '--dry-run'])).code).toBe(2);

    const exported = await cli(['export', '--dir', path.join(repo, 'flags')]);
    expect(exported.code).toBe(0);
    expect(exported.stderr).toContain(`updated ${file()}: guarded`);
    const text = readFileSync(file(), 'utf8');
    // Replaced in place: the file's other flag and its comments stay; no controller bookkeeping in it.
    expect(text).toContain('# Checkout, as written before its rollout.');
    expect(text).toContain('# Not ramped; only its description changes.');
    expect(text).toContain('rollout: "100"');
    expect(text).not.toContain(done.id);
    expect(readdirSync(path.join(repo, 'flags'))).toEqual(['checkout.yaml']);

    const plan = await cli(['apply', '-f', repo, '--dry-run']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('flag guarded');
    expect(plan.stdout).toContain('Nothing to apply');
    // The owned strategy is still the rollout's.
    expect((await flag('guarded')).environments[ENV].strategies[0].id).toBe(`rollout:${done.id}`);
    // A second export finds nothing to write.
    expect((await cli(['export', '--dir', path.join(repo, 'flags')])).stderr).toContain('0 of 2 flag(s) written');
  });

  it('export into an empty directory: a file per flag, kill switches left out, and the round trip is unchanged', async () => {
    expect((await t.api('POST', `/api/admin/flags/companion/environments/${ENV}/kill`, { reason: 'checking export' })).status).toBe(200);
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'rolloutctl-export-')), 'flags');
    const exported = await cli(['export', '--env', ENV, '--dir', dir, '--json']);
    expect(exported.code).toBe(0);
    const out = JSON.parse(exported.stdout);
    expect(out.files.map((f: any) => [path.basename(f.file), f.created, f.flags])).toEqual(
      [
        ['guarded.yaml', true, ['guarded']],
        ['companion.yaml', true, ['companion']],
      ].sort(),
    );
    expect(out.killed).toEqual([{ flag: 'companion', environment: ENV }]);
    const text = readFileSync(path.join(dir, 'guarded.yaml'), 'utf8');
    expect(text).toContain('# Written by rolloutctl export');
    expect(text).not.toContain('killSwitches');
    expect(readFileSync(path.join(dir, 'companion.yaml'), 'utf8')).not.toContain('checking export');

    const plan = await cli(['apply', '-f', dir, '--dry-run']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('Nothing to apply');
    // Applying never touches the kill switch.
    expect((await flag('companion')).killSwitches[ENV]).toMatchObject({ reason: 'checking export' });
  });
});
