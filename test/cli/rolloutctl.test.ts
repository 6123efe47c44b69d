import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestController, type TestController } from '../support/controller.js';
import { adminPerson, type AdminPerson } from '../rollouts/scenario-helpers.js';
import { ensureCliBuilt, runCli, type CliResult } from './cli-process.js';

/**
 * The built rolloutctl binary as a separate process against a running controller on real Redis.
 * Each step builds on the previous one (apply → start → approve → kill → report), as a release
 * manager would use it.
 */

const FLAG_FILE = (description: string, rollout = '0') => `
# A flag ramped by the rollout controller
flags:
  - name: cli-flag
    description: ${description}
    environments:
      production:
        enabled: false
        strategies:
          - name: flexibleRollout
            parameters: { rollout: "${rollout}", stickiness: userId, groupId: cli-flag }
`;

const POLICY_FILE = `
name: cli-plan
description: four steps, a release manager per widening (no Go/No-Go before 1%)
steps: [{ percentage: 1, approval: { required: 0 } }, 10, 50, 100]
stepDefaults: { minDuration: 1h, minSamples: 10, approval: { required: 1, roles: [release-manager] } }
gates:
  - { metric: error_rate, cohort: treatment, max: 0.05 }
`;

const BAD_FLAG_FILE = `
flags:
  - name: half-valid
    environments:
      production:
        enabled: true
        strategies:
          - name: flexibleRollout
            parameters: { rollout: "150" }
`;

describe('rolloutctl (the built binary) against a running controller', () => {
  let t: TestController;
  let editor: AdminPerson;
  let manager: AdminPerson;
  let viewer: AdminPerson;
  let repo: string;
  let rolloutId: string;
  const secrets: string[] = [];

  /** Runs rolloutctl as a person; asserts the token never appears in anything it prints. */
  async function cli(args: string[], as: AdminPerson | string | undefined, extraEnv: Record<string, string> = {}): Promise<CliResult> {
    const token = typeof as === 'string' ? as : as?.secret;
    const result = await runCli(args, { CONTROLLER_URL: t.url, ...(token ? { ROLLOUT_TOKEN: token } : {}), ...extraEnv });
    for (const secret of [...secrets, ...(token ? [token] : [])]) {
      expect(result.stdout).not.toContain(secret);
      expect(result.stderr).not.toContain(secret);
    }
    return result;
  }

  beforeAll(async () => {
    ensureCliBuilt();
    t = await startTestController();
    editor = await adminPerson(t, 'editor', 'Erin Editor');
    manager = await adminPerson(t, 'release-manager', 'Rita Manager');
    viewer = await adminPerson(t, 'viewer', 'Vic Viewer');
    secrets.push(t.adminToken, editor.secret, manager.secret, viewer.secret);
    repo = mkdtempSync(path.join(os.tmpdir(), 'rolloutctl-'));
    mkdirSync(path.join(repo, 'flags'));
    mkdirSync(path.join(repo, 'policies'));
    writeFileSync(path.join(repo, 'flags/cli.yaml'), FLAG_FILE('first version'));
    writeFileSync(path.join(repo, 'policies/cli-plan.yaml'), POLICY_FILE);
  });
  afterAll(() => t?.stop());

  it('--help works on the program and on every command, exit 0', async () => {
    const main = await cli(['--help'], undefined);
    expect(main.code).toBe(0);
    expect(main.stdout).toContain('Usage: rolloutctl');
    expect(main.stdout).toContain('ROLLOUT_TOKEN');
    expect(main.stdout).toContain('4  the token was refused');
    const commands = [
      'apply',
      'export',
      'status',
      'start',
      'release',
      'approve',
      'reject',
      'pause',
      'resume',
      'abort',
      'kill',
      'restore',
      'history',
      'report',
      'tokens',
      'tokens list',
      'tokens create',
      'tokens revoke',
    ];
    const results = await Promise.all(commands.map((c) => cli([...c.split(' '), '--help'], undefined)));
    results.forEach((r, i) => {
      expect(r.code, commands[i]).toBe(0);
      expect(r.stdout, commands[i]).toContain(`Usage: rolloutctl ${commands[i]}`);
    });
  });

  it('apply refuses invalid files, naming file and field, and applies nothing (exit 1)', async () => {
    const bad = mkdtempSync(path.join(os.tmpdir(), 'rolloutctl-bad-'));
    writeFileSync(path.join(bad, 'good.yaml'), FLAG_FILE('would be fine').replace('cli-flag', 'never-applied'));
    writeFileSync(path.join(bad, 'bad.yaml'), BAD_FLAG_FILE);
    writeFileSync(path.join(bad, 'policy.yaml'), 'name: bad-plan\nsteps: [10, 5]\n');
    const res = await cli(['apply', '-f', bad, '--yes'], editor);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(
      `${path.join(bad, 'bad.yaml')}: flags[0].environments.production.strategies[0].parameters.rollout: flexibleRollout needs "rollout" between 0 and 100`,
    );
    expect(res.stderr).toContain(`${path.join(bad, 'policy.yaml')}: steps[1]: steps must increase`);
    expect(res.stderr).toContain('2 invalid file(s); nothing was applied');
    expect((await t.api('GET', '/api/admin/flags/never-applied')).status).toBe(404);
  });

  it('apply lists every problem of an invalid file at once, one line each (and in --json)', async () => {
    const bad = mkdtempSync(path.join(os.tmpdir(), 'rolloutctl-four-'));
    const file = path.join(bad, 'four.yaml');
    writeFileSync(
      file,
      'name: four\nsteps: [10, 5]\nstepDefaults: { approval: { roles: [boss] } }\ngates:\n  - { metric: eror_rate, max: 0.01 }\n  - { metric: latency_p99_ms, max: high }\n',
    );
    const problems = [
      ['steps[1]', 'steps must increase'],
      ['stepDefaults.approval.roles[0]', '"boss" is not one of viewer, editor, release-manager, admin'],
      ['gates[0].metric', '"eror_rate" is not one of error_rate, latency_p50_ms, latency_p90_ms, latency_p95_ms, latency_p99_ms, latency_mean_ms'],
      ['gates[1].max', 'Invalid input: expected number, received string'],
    ];
    const res = await cli(['apply', '-f', file, '--yes'], editor);
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split('\n')).toEqual([
      ...problems.map(([field, problem]) => `${file}: ${field}: ${problem}`),
      'error: 1 invalid file(s); nothing was applied',
    ]);
    const json = await cli(['apply', '-f', file, '--yes', '--json'], editor);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({ valid: false, errors: problems.map(([field, problem]) => ({ file, field, problem })) });
    expect((await t.api('GET', '/api/admin/policies/four')).status).toBe(404);
  });

  it('apply shows the diff first: --dry-run changes nothing, --yes applies, a change is shown field by field', async () => {
    const dry = await cli(['apply', '-f', repo, '--dry-run'], editor);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`flag cli-flag (${path.join(repo, 'flags/cli.yaml')}): create`);
    expect(dry.stdout).toContain(`policy cli-plan (${path.join(repo, 'policies/cli-plan.yaml')}): create`);
    expect(dry.stdout).toContain('2 change(s) to apply.');
    expect((await t.api('GET', '/api/admin/flags/cli-flag')).status).toBe(404);

    // Without a terminal to confirm on, apply needs --yes.
    const unconfirmed = await cli(['apply', '-f', repo], editor);
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.stderr).toContain('pass --yes');
    expect((await t.api('GET', '/api/admin/policies/cli-plan')).status).toBe(404);

    // An editor's apply writes the flag and proposes the policy: only admins write policies.
    const applied = await cli(['apply', '-f', repo, '--yes'], editor);
    expect(applied.code).toBe(0);
    expect(applied.stderr).toContain('applied flag cli-flag');
    const proposal = /proposed policy cli-plan \(proposal ([0-9a-f-]{36})/.exec(applied.stderr)?.[1];
    expect(proposal, applied.stderr).toBeDefined();
    expect((await t.api('GET', '/api/admin/flags/cli-flag')).body.description).toBe('first version');
    expect((await t.api('GET', '/api/admin/policies/cli-plan')).status).toBe(404);
    expect((await t.api('POST', `/api/admin/policy-proposals/${proposal}/accept`, { reason: 'reviewed' })).status).toBe(200);
    expect((await t.api('GET', '/api/admin/policies/cli-plan')).body.stepDefaults.minDuration).toBe(3_600_000);

    const again = await cli(['apply', '-f', repo, '--dry-run'], editor);
    expect(again.stdout).toContain('flag cli-flag');
    expect(again.stdout).toContain('Nothing to apply');

    writeFileSync(path.join(repo, 'flags/cli.yaml'), FLAG_FILE('second version', '5'));
    const changed = await cli(['apply', '-f', repo, '--yes', '--json'], editor);
    expect(changed.code).toBe(0);
    const out = JSON.parse(changed.stdout);
    expect(out.changes.find((c: { name: string }) => c.name === 'cli-flag')).toMatchObject({
      action: 'update',
      changes: [
        { path: 'description', op: 'change', before: 'first version', after: 'second version' },
        { path: 'environments.production.strategies[0].parameters.rollout', op: 'change', before: '0', after: '5' },
      ],
    });
    expect(out.applied).toEqual(['flag:cli-flag']);
    expect((await t.api('GET', '/api/admin/flags/cli-flag')).body.environments.production.strategies[0].parameters.rollout).toBe('5');

    const human = await cli(['apply', '-f', path.join(repo, 'flags/cli.yaml'), '--dry-run'], editor);
    expect(human.stdout).toContain('Nothing to apply');
    writeFileSync(path.join(repo, 'flags/cli.yaml'), FLAG_FILE('second version', '0'));
    const diff = await cli(['apply', '-f', path.join(repo, 'flags/cli.yaml'), '--dry-run'], editor);
    expect(diff.stdout).toContain('  ~ environments.production.strategies[0].parameters.rollout: "5" → "0"');
    expect((await cli(['apply', '-f', repo, '--yes'], editor)).code).toBe(0);
  });

  it('a viewer may read but not apply (exit 4)', async () => {
    writeFileSync(path.join(repo, 'flags/cli.yaml'), FLAG_FILE('viewer edit'));
    const res = await cli(['apply', '-f', repo, '--yes'], viewer);
    expect(res.code).toBe(4);
    expect(res.stderr).toContain('not allowed');
    writeFileSync(path.join(repo, 'flags/cli.yaml'), FLAG_FILE('second version'));
  });

  it('start, then status --json shows it with its steps and what it waits for', async () => {
    const started = await cli(['start', 'cli-flag', '--env', 'production', '--policy', 'cli-plan'], editor);
    expect(started.code).toBe(0);
    rolloutId = /\[([0-9a-f-]{36})\]/.exec(started.stdout)![1]!;
    expect(started.stdout).toContain('[1%] › 10% › 50% › 100%');
    // Nothing reported the flag's outcomes yet: the pre-flight says there is no traffic to estimate from.
    expect(started.stdout).toContain('Pre-flight: no requests without the feature over the last 60 min');
    expect(started.stdout).toContain('  1%: no estimate: no traffic');

    const status = await cli(['status', '--json'], viewer);
    expect(status.code).toBe(0);
    const { rollouts } = JSON.parse(status.stdout);
    expect(rollouts).toHaveLength(1);
    expect(rollouts[0]).toMatchObject({
      id: rolloutId,
      flag: 'cli-flag',
      environment: 'production',
      policy: 'cli-plan',
      state: 'running',
      stepIndex: 0,
      percentage: 1,
      steps: [1, 10, 50, 100],
      startedBy: 'Erin Editor',
    });
    expect(rollouts[0].waitingFor).toMatch(/minimum duration|step just started|samples/);

    const table = await cli(['status'], viewer);
    expect(table.stdout).toMatch(new RegExp(`${rolloutId.slice(0, 8)}\\s+cli-flag\\s+production\\s+running\\s+█+·+ \\[1%\\] › 10% › 50% › 100%`));

    // --watch --json: one JSON document per line per refresh, until interrupted.
    const watched = await runCli(
      ['status', '--watch', '--json', '--interval', '0.2'],
      { CONTROLLER_URL: t.url, ROLLOUT_TOKEN: viewer.secret },
      { stopWhen: (out) => out.split('\n').length > 2 },
    );
    const docs = watched.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(docs.length).toBeGreaterThanOrEqual(2);
    for (const doc of docs) expect(doc.rollouts.map((r: { id: string }) => r.id)).toEqual([rolloutId]);
    expect(docs[1].at > docs[0].at).toBe(true);

    // The rollout now owns the flag's strategy: applying the file again would undo its ramp, so it is refused up front.
    const drift = await cli(['apply', '-f', repo, '--dry-run'], editor);
    expect(drift.code).toBe(2);
    expect(drift.stdout).toContain('  ~ environments.production.enabled: true → false');
    expect(drift.stdout).toContain('  ~ environments.production.strategies[0].parameters.rollout: "1" → "0"');
    expect(drift.stdout).toContain(
      `  ! flag cli-flag in production: the file disables the environment (serves 0%), rollout ${rolloutId} (running) set 1%; refused unless --force`,
    );

    const twice = await cli(['start', 'cli-flag', '--env', 'production', '--policy', 'cli-plan'], editor);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('already has an active rollout');
  });

  it('approve: not by an editor (exit 4); by a release manager with a comment, using a short id', async () => {
    const own = await cli(['approve', rolloutId, '--step', '10', '--ahead', '-m', 'mine'], editor);
    expect(own.code).toBe(4);
    expect(own.stderr).toContain('role editor may not rollouts:approve');

    // The 1% step is still running: nothing awaits approval, so a plain approve is refused (exit 2)…
    const early = await cli(['approve', rolloutId.slice(0, 8), '-m', 'go'], manager);
    expect(early.code).toBe(2);
    expect(early.stderr).toContain('awaits no approval');
    // …and the 10% step can be approved ahead only when asked for.
    const res = await cli(['approve', rolloutId.slice(0, 8), '--step', '10', '--ahead', '-m', 'error rate flat, go'], manager);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('approved the 10% step (Rita Manager');
    const rollout = (await t.api('GET', `/api/admin/rollouts/${rolloutId}`)).body;
    expect(rollout.approvals).toMatchObject([{ by: { name: 'Rita Manager' }, step: 1, ahead: true, comment: 'error rate flat, go' }]);
    // Approving the same step again gives the first approval back.
    const again = await cli(['approve', rolloutId.slice(0, 8), '--step', '10', '--ahead', '--json'], manager);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).approval.at).toBe(rollout.approvals[0].at);

    const history = await cli(['history', rolloutId.slice(0, 6), '--json'], viewer);
    expect(JSON.parse(history.stdout).history[0]).toMatchObject({ from: 'pending', to: 'running', actor: 'Erin Editor' });
  });

  it('kill and restore: a viewer may not (exit 4); a release manager may, with a reason', async () => {
    expect((await cli(['kill', 'cli-flag', '--env', 'production', '--reason', 'no'], viewer)).code).toBe(4);
    const missingReason = await cli(['kill', 'cli-flag', '--env', 'production'], manager);
    expect(missingReason.code).toBe(1);
    expect(missingReason.stderr).toContain('--reason');

    const killed = await cli(['kill', 'cli-flag', '--env', 'production', '--reason', 'checkout errors'], manager);
    expect(killed.code).toBe(0);
    expect(killed.stdout).toContain('cli-flag in production: killed');
    expect((await t.api('GET', '/api/admin/flags/cli-flag')).body.killSwitches.production).toMatchObject({ reason: 'checkout errors', actor: 'Rita Manager' });

    const restored = await cli(['restore', 'cli-flag', '--env', 'production', '--reason', 'fixed', '--json'], manager);
    expect(restored.code).toBe(0);
    expect(JSON.parse(restored.stdout)).toMatchObject({ killed: false, changed: true });
    expect((await t.api('GET', '/api/admin/flags/cli-flag')).body.killSwitches).toEqual({});
  });

  it('report: writes the go-live report to a file, Markdown or HTML', async () => {
    expect((await cli(['abort', rolloutId, '-m', 'waiting for marketing'], editor)).code).toBe(0);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rolloutctl-report-'));
    const md = await cli(['report', rolloutId.slice(0, 8), '-o', path.join(dir, 'go-live.md')], viewer);
    expect(md.code).toBe(0);
    const text = readFileSync(path.join(dir, 'go-live.md'), 'utf8');
    expect(text).toContain('# Go-live report: `cli-flag` in `production`');
    expect(text).toMatch(/\| 10% \(ahead\) \| Rita Manager \| release-manager \| [^|]+ \| error rate flat, go \|/);
    expect(text).toContain('Aborted: aborted by Erin Editor: waiting for marketing');

    const html = await cli(['report', rolloutId, '-o', path.join(dir, 'go-live.html')], viewer);
    expect(html.code).toBe(0);
    expect(html.stderr).toContain('HTML go-live report');
    const page = readFileSync(path.join(dir, 'go-live.html'), 'utf8');
    expect(page.startsWith('<!doctype html>')).toBe(true);
    expect(page).toContain('<td>Rita Manager</td>');

    const stdout = await cli(['report', rolloutId, '--format', 'md'], viewer);
    expect(stdout.code).toBe(0);
    // Without -o the report itself is the output, nothing else.
    expect(stdout.stdout.startsWith('# Go-live report: `cli-flag` in `production`')).toBe(true);
    expect(stdout.stderr).toBe('');

    const chinese = await cli(['report', rolloutId, '--lang', 'zh-CN'], viewer);
    expect(chinese.code).toBe(0);
    expect(chinese.stdout.startsWith('# 上线报告：`production` 中的 `cli-flag`')).toBe(true);
    const french = await cli(['report', rolloutId, '--lang', 'fr'], viewer);
    expect(french.code).not.toBe(0);
    expect(french.stderr).toContain('--lang: expected en or zh-CN, got "fr"');
  });

  it('tokens: create prints the new secret once, list never shows secrets, revoke removes it', async () => {
    const created = await cli(['tokens', 'create', '--kind', 'client', '--env', 'production', '--name', 'shop', '--json'], t.adminToken);
    expect(created.code).toBe(0);
    const token = JSON.parse(created.stdout);
    expect(token.secret).toMatch(/^client:production\./);
    const list = await cli(['tokens', 'list'], t.adminToken);
    expect(list.stdout).toContain(token.id);
    expect(list.stdout).not.toContain(token.secret);
    expect((await cli(['tokens', 'list'], editor)).code).toBe(4);
    expect((await cli(['tokens', 'revoke', token.id], t.adminToken)).code).toBe(0);
    expect((await cli(['tokens', 'list', '--json'], t.adminToken)).stdout).not.toContain(token.id);
    expect((await cli(['tokens', 'revoke', token.id], t.adminToken)).code).toBe(2);
  });

  it('tokens: creates an alert token bound to several environments (issue 16)', async () => {
    const created = await cli(['tokens', 'create', '--kind', 'alert', '--env', 'staging', '--env', 'production', '--name', 'alertmanager'], t.adminToken);
    expect(created.code).toBe(0);
    // The secret alone on stdout.
    expect(created.stdout.trim()).toMatch(/^alert:staging\+1\.[0-9a-f]{48}$/);
    expect(created.stderr).toContain('(staging,production)');
    const list = await cli(['tokens', 'list'], t.adminToken);
    expect(list.stdout).toMatch(/alertmanager\s+alert\s+staging,production/);
    const commas = await cli(['tokens', 'create', '--kind', 'alert', '--env', 'staging,production', '--name', 'apm', '--json'], t.adminToken);
    expect(JSON.parse(commas.stdout).environments).toEqual(['staging', 'production']);
    const none = await cli(['tokens', 'create', '--kind', 'alert', '--name', 'nowhere'], t.adminToken);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('an alert token needs --env');
    const twoForClient = await cli(['tokens', 'create', '--kind', 'client', '--env', 'staging,production', '--name', 'x'], t.adminToken);
    expect(twoForClient.code).toBe(1);
    expect(twoForClient.stderr).toContain('a client token serves one environment');
  });

  it('exit codes: unknown token 4, no token 1, unreachable controller 3, unknown rollout 2', async () => {
    const bad = await cli(['status'], 'not-a-real-token-secret');
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain('the token was refused');

    const none = await cli(['status'], undefined);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('ROLLOUT_TOKEN');

    // A port that was just free: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as net.AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const down = await cli(['status', '--json'], viewer, { CONTROLLER_URL: `http://127.0.0.1:${port}` });
    expect(down.code).toBe(3);
    expect(JSON.parse(down.stderr)).toMatchObject({ exitCode: 3 });
    expect(down.stderr).toContain('cannot reach the controller');

    expect((await cli(['history', 'ffffffff'], viewer)).code).toBe(2);
    expect((await cli(['--url', t.url, 'status'], viewer, { CONTROLLER_URL: 'http://127.0.0.1:1' })).code).toBe(0);
  });

  it('start: a baseline over a gate is refused with its numbers (exit 2) unless --force; the estimate per step is printed', async () => {
    expect((await t.api('PUT', '/api/admin/flags/cli-noisy', { environments: { production: { enabled: true, strategies: [] } } })).status).toBeLessThan(300);
    const client = await t.token({ kind: 'client', environment: 'production' });
    secrets.push(client);
    const reported = await t.api(
      'POST',
      '/api/metrics/outcomes',
      { appName: 'shop', records: [{ flag: 'cli-noisy', cohort: 'control', requests: 60_000, errors: 12_000 }] },
      client,
    );
    expect(reported.status).toBe(202);

    const refused = await cli(['start', 'cli-noisy', '--env', 'production', '--policy', 'cli-plan'], editor);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('failing on the baseline: error_rate(treatment) <= 0.05: the baseline is already 20% against 5%, over 60,000 requests');
    expect(refused.stderr).toContain('start anyway with --force');

    const forced = await cli(['start', 'cli-noisy', '--env', 'production', '--policy', 'cli-plan', '--force'], editor);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/Pre-flight: (99\d|1,000) requests\/min; 20% errors in 60,000 requests without the feature over the last 60 min/);
    expect(forced.stdout).toContain('  warning: error_rate(treatment) <= 0.05: the baseline is already 20% against 5%');
    expect(forced.stdout).toMatch(/ {2}10%: (~\d+ min|< 1 min) to detect a doubling at 95% confidence \(\d+ requests\/min\)/);
  });

  it('start --at schedules: status shows it scheduled with its start time; release starts several flags as one', async () => {
    for (const name of ['cli-later', 'cli-mod-a', 'cli-mod-b'])
      expect((await t.api('PUT', `/api/admin/flags/${name}`, { environments: { production: { enabled: true, strategies: [] } } })).status).toBeLessThan(300);
    const at = new Date(Date.now() + 3 * 3_600_000).toISOString();
    const scheduled = await cli(['start', 'cli-later', '--env', 'production', '--policy', 'cli-plan', '--at', at, '--not-before', `100=${at}`], editor);
    expect(scheduled.code, scheduled.stderr).toBe(0);
    expect(scheduled.stdout).toContain(`Scheduled for ${at}:`);
    const status = JSON.parse((await cli(['status', '--json'], viewer)).stdout).rollouts.find((r: any) => r.flag === 'cli-later');
    expect(status).toMatchObject({ state: 'scheduled', startAt: at, timeInStep: null, percentage: 0 });
    expect(status.waitingFor).toContain(`the scheduled start at ${at}`);
    const table = await cli(['status'], viewer);
    expect(table.stdout).toMatch(/cli-later\s+production\s+scheduled/);
    const bad = await cli(['start', 'cli-later', '--env', 'production', '--policy', 'cli-plan', '--not-before', 'soon'], editor);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--not-before: expected <step percentage>=<time>, got "soon"');

    const release = await cli(['release', 'cli-module', '--flags', 'cli-mod-a,cli-mod-b', '--env', 'production', '--policy', 'cli-plan'], editor);
    expect(release.code, release.stderr).toBe(0);
    const listed = JSON.parse((await cli(['status', '--json'], viewer)).stdout).rollouts;
    expect(listed.some((r: any) => r.flag === 'cli-module (release: cli-mod-a, cli-mod-b)' && r.percentage === 1)).toBe(true);
  });
});
