import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestController, type TestController } from '../support/controller.js';
import { ENV, expectStatus, shortPolicy } from './scenario-helpers.js';

/**
 * Holiday calendars from files (policies/holidays/*.yaml) on a live controller over the test Redis:
 * loaded at start (a bad file is skipped with an ERROR naming it), copied into a rollout's plan
 * when it starts, and a rollout on a calendar-day holds, saying when the window opens next.
 */

interface LogLine {
  level: number;
  msg: string;
  file?: string;
}

describe('holiday calendars', () => {
  let t: TestController;
  const log: LogLine[] = [];
  // "Today" on the controller's clock is a holiday in the calendar; tomorrow is not.
  const now = new Date('2026-10-01T04:00:00Z');

  beforeAll(async () => {
    const policies = mkdtempSync(path.join(os.tmpdir(), 'rc-policies-'));
    mkdirSync(path.join(policies, 'holidays'));
    writeFileSync(
      path.join(policies, 'holidays', 'cn-mainland.yaml'),
      ['name: cn-mainland', 'description: Public holidays (test)', 'dates:', '  - { date: 2026-10-01, name: National Day }', '  - 2026-10-03'].join('\n'),
    );
    writeFileSync(path.join(policies, 'holidays', 'broken.yaml'), 'name: broken\ndates: [not-a-date]\n');
    t = await startTestController({
      env: { POLICIES_DIR: policies, LOG_LEVEL: 'info' },
      now: () => new Date(now.getTime() + (Date.now() - started)),
      logTo: { write: (line: string) => void log.push(JSON.parse(line) as LogLine) },
    });
  });
  const started = Date.now();

  afterAll(() => t?.stop());

  it('loads good calendars and names the bad file with an ERROR', () => {
    expect(log.some((l) => l.level >= 50 && l.file?.endsWith('broken.yaml') && /holiday calendar not loaded/.test(l.msg))).toBe(true);
    expect(log.some((l) => /holiday calendar cn-mainland loaded/.test(l.msg))).toBe(true);
  });

  it('a rollout copies the calendar into its plan and holds on a holiday, saying when the window opens', async () => {
    await expectStatus(t, 201, 'PUT', '/api/admin/flags/h-flag', { environments: { [ENV]: { enabled: true, strategies: [] } } });
    await expectStatus(
      t,
      201,
      'PUT',
      '/api/admin/policies/holidays',
      shortPolicy('holidays', {
        windows: {
          deny: [
            { holidays: 'cn-mainland', tz: 'Asia/Shanghai' },
            { lastDaysOfMonth: 2, tz: 'Asia/Shanghai' },
          ],
        },
      }),
    );
    const rollout = await expectStatus(t, 201, 'POST', '/api/admin/rollouts', { flag: 'h-flag', environment: ENV, policy: 'holidays' });
    expect(rollout.plan.windows.deny[0]).toMatchObject({ holidays: 'cn-mainland', dates: ['2026-10-01', '2026-10-03'] });
    expect(rollout).toMatchObject({ state: 'pending', percentage: 0 });
    const window = rollout.status.waitingFor.find((c: any) => c.kind === 'window');
    expect(window).toMatchObject({ met: false, opensAt: '2026-10-01T16:00:00.000Z' });
    expect(window.reason).toBe('2026-10-01 is a holiday (cn-mainland, Asia/Shanghai); opens next at 2026-10-02 00:00 (Asia/Shanghai)');
  });

  it('a policy naming a calendar that does not exist is stored, but a rollout on it is refused naming the field', async () => {
    await expectStatus(t, 201, 'PUT', '/api/admin/flags/h-other', { environments: { [ENV]: { enabled: true, strategies: [] } } });
    await expectStatus(t, 201, 'PUT', '/api/admin/policies/no-calendar', shortPolicy('no-calendar', { windows: { deny: [{ holidays: 'nowhere' }] } }));
    const refused = await t.api('POST', '/api/admin/rollouts', { flag: 'h-other', environment: ENV, policy: 'no-calendar' });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ error: 'unknown_holiday_calendar' });
    expect(refused.body.message).toMatch(/windows\.deny\[0\]\.holidays names the calendar "nowhere"/);
  });
});
