import { describe, expect, it } from 'vitest';
import {
  everyStageCompleted,
  laterStageStopped,
  promoted,
  stageCompletedAt,
  stageStopped,
  startsAt,
  stoppedBy,
  waitingWhileKilled,
} from '../../src/pipelines/pipeline-wording.js';
import { changeWindowOpen } from '../../src/policies/change-window.js';
import { messageWords } from '../../src/notifications/message-words.js';
import { emptyCohort } from '../../src/metrics/outcome-math.js';
import { policySchema } from '../../src/policies/policy-schema.js';
import { decide } from '../../src/rollouts/decide.js';
import { preflight } from '../../src/rollouts/preflight.js';
import { baselineText, minutesText, perMinute } from '../../src/rollouts/preflight-text.js';
import { baselineWording, minutesWording, perMinuteWording } from '../../src/rollouts/preflight-wording.js';
import {
  advancedTo,
  approvalsNeeded,
  goNoGoNeeds,
  lastStepHealthy,
  lastStepHealthyWatching,
  resumedBy,
  rolloutStarted,
  say,
  scheduledStart,
  stepHealthyNeeds,
  type Wording,
  wording,
} from '../../src/rollouts/reason-wording.js';
import type { CheckResult, Rollout } from '../../src/rollouts/rollout-model.js';
import { rolloutStatus } from '../../src/rollouts/rollout-status.js';
import {
  aboveNotBeyondDoubt,
  aboveThresholdNotBeyondDoubt,
  allOf,
  benefitOfTheDoubt,
  controlSamplesSoFar,
  countingStarts,
  evaluationsSoFar,
  evaluationsWhileWaiting,
  goNoGo,
  metricsUnavailable,
  minimumDurationToGo,
  noControlAt100,
  noData,
  noEvaluationsYet,
  notJudgedWithoutUsers,
  noQueryResult,
  notStarted,
  ruleOnFlagSays,
  ruleSays,
  sampleRatioMismatch,
  samplesSoFar,
  scheduledToStartAt,
  sharedBreach,
  sinceStepStart,
  stepJustStarted,
  stepRestartedOnResume,
  treatmentSamplesSoFar,
  valueOver,
  worseNotBeyondDoubt,
} from '../../src/rollouts/verdict-wording.js';
import { BREACHING, GATE_FAILING, HEALTHY, MINUTE, SPARSE, TRICKLE, analysis, at, bob, noApprovalPolicy, rollout } from './decide-fixtures.js';

/**
 * Step verdicts and check reasons as templates with values (verdict-wording.ts): each said in
 * English is the text the controller stored before it had them, byte for byte; said through the
 * Chinese catalog, it is Chinese with the values as they are.
 */

const check = (over: Partial<CheckResult> = {}): CheckResult => ({
  rule: 'error_rate(treatment) <= 0.01',
  metric: 'error_rate',
  cohort: 'treatment',
  threshold: 0.01,
  value: 0.03,
  samples: 2000,
  verdict: 'fail',
  ...over,
});

const ruleBreachedText = wording('rollback rule {rule} breached', { rule: 'x' });

describe('verdict wording', () => {
  it.each(
    (
      [
        [samplesSoFar(12, 1000), '12 of 1000 samples'],
        [treatmentSamplesSoFar(500, 1000), '500 of 1000 treatment samples'],
        [controlSamplesSoFar(0, 5000), '0 of 5000 control samples'],
        [noData(), 'no data'],
        [noControlAt100(), 'no control cohort at 100 %'],
        [aboveNotBeyondDoubt(0.01, 0.95), 'above 0.01 but not yet beyond doubt at 0.95 confidence'],
        [aboveThresholdNotBeyondDoubt(), 'above the threshold but not beyond doubt'],
        [worseNotBeyondDoubt(0.9), 'worse than allowed but not yet beyond doubt at 0.9 confidence'],
        [benefitOfTheDoubt(2), "over the line but not beyond doubt after 2x the step's minimum duration and samples: benefit of the doubt"],
        [noQueryResult(), 'no query result (no metric provider configured?)'],
        [minimumDurationToGo(540), 'step minimum duration: 540s to go'],
        [ruleSays('latency_p99_ms(treatment) <= 500', treatmentSamplesSoFar(3, 10)), 'latency_p99_ms(treatment) <= 500: 3 of 10 treatment samples'],
        [ruleSays('q(treatment) <= 1', 'Prometheus said: timeout'), 'q(treatment) <= 1: Prometheus said: timeout'],
        [ruleOnFlagSays('error_rate(treatment) <= 0.01', 'banner', valueOver(check())), 'error_rate(treatment) <= 0.01 on banner: 3% over 2,000 requests'],
        [allOf([ruleSays('a', noData()), ruleSays('b', noData()), ruleSays('c', noData())]), 'a: no data; b: no data; c: no data'],
        [
          sharedBreach(check({ cohorts: { treatment: { value: 0.03, samples: 2000 }, control: { value: 0.02, samples: 1 } }, shared: true }), 'gate'),
          'gate error_rate(treatment) <= 0.01 failed, but control is as bad: shared incident (treatment 3% over 2,000 requests, control 2% over 1 request); holding until it clears',
        ],
        [
          sharedBreach(check(), 'rollback rule'),
          'rollback rule error_rate(treatment) <= 0.01 breached, but control is as bad: shared incident (treatment, control); holding until it clears',
        ],
        [stepJustStarted(), 'step just started'],
        [stepRestartedOnResume(), 'step restarted on resume'],
        [goNoGo(1), 'Go/No-Go: approval for 1%'],
        [metricsUnavailable('ECONNREFUSED'), 'metrics unavailable: ECONNREFUSED'],
        [notStarted(), 'not started'],
        [scheduledToStartAt('2026-01-17T14:00:00+08:00'), 'scheduled to start at 2026-01-17T14:00:00+08:00'],
        [stageStopped('staging', true, ruleBreachedText), 'staging: the rollout rolled back (rollback rule x breached)'],
        [laterStageStopped(stageStopped('staging', false, 'aborted by Bob')), 'stopped: staging: the rollout was aborted (aborted by Bob)'],
        [everyStageCompleted(), 'every stage completed'],
        [resumedBy('Bob'), 'resumed by Bob'],
        [scheduledStart('2026-01-17T14:00:00+08:00'), 'scheduled start (2026-01-17T14:00:00+08:00)'],
        [rolloutStarted(), 'rollout started'],
        [advancedTo(10), 'advanced to 10%'],
        [lastStepHealthy(), 'last step healthy'],
        [lastStepHealthyWatching('2026-03-02T13:00:00.000Z', '1h'), 'last step healthy; rollback rules watch until 2026-03-02T13:00:00.000Z (1h)'],
        [stepHealthyNeeds(1, approvalsNeeded(1, 'release-manager', 10)), 'the 1% step is healthy; 1 approval(s) from release-manager needed for 10%'],
        [goNoGoNeeds(approvalsNeeded(2, 'sre or dba', 1)), 'Go/No-Go: 2 approval(s) from sre or dba needed for 1%; serving nothing until then'],
        [stoppedBy('Ada', 'freeze'), 'stopped by Ada: freeze'],
        [stageCompletedAt('2026-03-02T12:00:00.000Z'), 'completed at 2026-03-02T12:00:00.000Z'],
        [waitingWhileKilled('staging'), 'waiting: the flag is killed in staging, which is not "without a breach"'],
        [startsAt('2026-03-02T13:00:00.000Z', '1h', 'staging'), 'starts at 2026-03-02T13:00:00.000Z: 1h after staging completed without a breach'],
        [promoted('staging', '1h'), 'promoted: staging completed and stayed without a breach for 1h'],
        [countingStarts(3, 4, '10:04:00 UTC'), 'counting starts once the SDKs have fetched the step: 3 of 4 SDK instances have (at the latest 10:04:00 UTC)'],
        [
          evaluationsWhileWaiting('1,200', countingStarts(0, 0, '10:04:00 UTC')),
          '1,200 evaluations reported since the step started; counting starts once the SDKs have fetched the step: the controller is applying it (at the latest 10:04:00 UTC)',
        ],
        [
          noEvaluationsYet(sinceStepStart(), '5,000'),
          'no evaluations reported since the step started yet, of the 5,000 needed (SDKs report every metrics interval, 60 s by default)',
        ],
        [evaluationsSoFar('1', '10:00:00 UTC', '5,000'), '1 evaluations reported since 10:00:00 UTC, of the 5,000 needed'],
        [
          notJudgedWithoutUsers(),
          'not judged: no application reported users, only evaluations, and a share of evaluations follows how much each user uses the product (no evaluations reported yet)',
        ],
        [
          notJudgedWithoutUsers({ share: '9.8%', n: '10,000' }),
          'not judged: no application reported users, only evaluations, and a share of evaluations follows how much each user uses the product (9.8% of 10,000 evaluations got the feature)',
        ],
        [
          sampleRatioMismatch('6.5%', '1,000', '10%', 0.0012, true),
          'sample ratio mismatch: 6.5% of about 1,000 users got the feature, the step serves 10% (p = 0.0012, user counts estimated from a sample, with its error allowed for): check SDK versions, caching, or other strategies on the flag',
        ],
        [
          sampleRatioMismatch('6.5%', '1,000', '10%', 0, false),
          'sample ratio mismatch: 6.5% of 1,000 users got the feature, the step serves 10% (p = 0): check SDK versions, caching, or other strategies on the flag',
        ],
      ] as Array<[Wording, string]>
    ).map(([wording, english]) => [english, wording] as const),
  )('"%s" is its wording said in English', (english, wording) => {
    expect(say(wording)).toBe(english);
  });

  it('the decision core stores the English text and, beside it, the wording it says', () => {
    const plan = noApprovalPolicy();
    const cases: Array<[Rollout, ReturnType<typeof analysis>, number]> = [
      [rollout({ plan }), analysis(HEALTHY), 2 * MINUTE],
      [rollout({ plan }), analysis(SPARSE), 11 * MINUTE],
      [rollout({ plan }), analysis(TRICKLE), 11 * MINUTE],
      [rollout({ plan }), analysis(GATE_FAILING), 11 * MINUTE],
      [rollout({ plan }), analysis(BREACHING), 11 * MINUTE],
    ];
    let worded = 0;
    for (const [r, input, ms] of cases) {
      const d = decide(r, input, at(ms));
      if (d.kind !== 'decided') throw new Error(d.kind);
      const v = d.next.stepVerdict;
      if (v.kind !== 'healthy') {
        expect(v.reasonWording, v.reason).toBeDefined();
        expect(say(v.reasonWording!)).toBe(v.reason);
        worded++;
      }
      for (const t of d.next.history) if (t.reasonWording) expect(say(t.reasonWording)).toBe(t.reason);
      for (const g of [...d.next.gates, ...d.next.rollbackChecks]) {
        if (g.reasonWording) expect(say(g.reasonWording)).toBe(g.reason);
        else expect(g.reason).toBeUndefined();
      }
    }
    expect(worded).toBeGreaterThanOrEqual(3);
  });

  it('says a waiting step and a failing gate in Chinese, with the numbers, rules and units in their Chinese words', () => {
    const zh = messageWords('zh-CN');
    expect(say(treatmentSamplesSoFar(500, 1000), zh)).toBe('实验组已有 500 个样本，需要 1000 个');
    expect(say(minimumDurationToGo(540), zh)).toBe('步骤最短时长：还需 540秒');
    expect(say(ruleOnFlagSays('error_rate(treatment) <= 0.01', 'banner', valueOver(check())), zh)).toBe(
      'error_rate(treatment) <= 0.01（开关 banner）：3%，基于 2,000 次请求',
    );
    expect(say(sharedBreach(check({ cohorts: { treatment: { value: 0.03, samples: 2000 } } }), 'gate'), zh)).toBe(
      '闸门 error_rate(treatment) <= 0.01 未通过，但对照组同样糟糕：属于共同事故（实验组 3%，基于 2,000 次请求，对照组）；保持当前步骤直至恢复',
    );
  });

  it("a paused rollout's and a killed flag's waiting-for items carry their wording beside the text", () => {
    const d = decide(rollout(), { kind: 'pause', by: bob, comment: 'DBA on it' }, at(MINUTE));
    if (d.kind !== 'decided') throw new Error(d.kind);
    const kill = { actor: 'Rita', at: at(MINUTE).toISOString(), reason: 'P0 in checkout' };
    const [killed, person] = rolloutStatus(d.next, kill, at(2 * MINUTE)).waitingFor;
    expect(person).toMatchObject({ kind: 'person', reason: 'paused by Bob: DBA on it', reasonWording: { template: 'paused by {name}: {comment}' } });
    expect(killed).toMatchObject({ kind: 'flag-killed', reason: 'the flag is killed here (P0 in checkout): a person must restore it or abort the rollout' });
    const zh = messageWords('zh-CN');
    expect(killed?.kind === 'flag-killed' && say(killed.reasonWording!, zh)).toBe('该开关在此环境已被紧急关闭（P0 in checkout）：需要有人恢复它或中止发布');
  });

  it("a shut change window's reason: the same English as before, and Chinese with the date and zone as written", () => {
    const windows = { allow: [], deny: [{ dates: ['2026-03-02'], tz: 'Asia/Shanghai' }] } as unknown as Parameters<typeof changeWindowOpen>[0];
    const shut = changeWindowOpen(windows, at(0));
    expect(shut.reason).toBe('2026-03-02 is a denied date (Asia/Shanghai); opens next at 2026-03-03 00:00 (Asia/Shanghai)');
    expect(say(shut.reasonWording!)).toBe(shut.reason);
    expect(say(shut.reasonWording!, messageWords('zh-CN'))).toBe('2026-03-02 是禁止变更的日期（Asia/Shanghai）；下次开启于 2026-03-03 00:00 (Asia/Shanghai)');
  });
});

describe('pre-flight wording', () => {
  const HOUR = 3_600_000;
  const policy = policySchema.parse({ name: 'p', gates: [{ metric: 'error_rate', cohort: 'control', max: 0.01, confidence: 0.95 }] });
  const baseline = (requests: number, errors: number) => ({
    treatment: emptyCohort(),
    control: { ...emptyCohort(), requests, errors },
  });
  const at = (totals: ReturnType<typeof baseline>) => preflight({ policy, totals, window: { from: 0, to: HOUR } });

  it('stores the English text as before and, beside every sentence, its wording', () => {
    const failing = at(baseline(20_000, 500));
    expect(failing.violations[0]!.text).toBe(
      'error_rate(control) <= 0.01 at 0.95 confidence: the baseline is already 2.5% against 1%, over 20,000 requests without the feature in the last 60 min (beyond doubt at 95% confidence)',
    );
    expect(at(baseline(1000, 600)).steps[0]!.reason).toBe('an error rate of 60% cannot double');
    expect(at(baseline(0, 0)).steps[0]!.reason).toBe('no traffic: no outcomes were reported for the flag in the window');
    expect(at(baseline(72_000, 0)).notes[0]).toBe('no errors in 72,000 requests: the times are for a doubling of 0.000694% (half an error in the window)');
    for (const p of [failing, at(baseline(1000, 600)), at(baseline(0, 0)), at(baseline(72_000, 0))]) {
      for (const v of p.violations) expect(say(v.textWording!)).toBe(v.text);
      for (const s of p.steps) if (s.reason) expect(say(s.reasonWording!)).toBe(s.reason);
      expect(p.noteWordings!.map((w) => say(w))).toEqual(p.notes);
    }
    expect(baselineText(failing)).toBe('333 requests/min; 2.5% errors in 20,000 requests without the feature over the last 60 min');
    expect([0.4, 14.2, 150, 4000].map(minutesText)).toEqual(['< 1 min', '~15 min', '~2.5 h', '~2.8 days']);
    expect([2.5, 1234.5].map(perMinute)).toEqual(['2.5 requests/min', '1,235 requests/min']);
  });

  it('says the baseline, a failing gate and the times in Chinese, with the numbers as they are', () => {
    const zh = messageWords('zh-CN');
    const failing = at(baseline(20_000, 500));
    expect(say(baselineWording(failing.baseline), zh)).toBe('每分钟 333 次请求；最近 60 分钟内未获得该功能的 20,000 次请求中错误率为 2.5%');
    expect(say(failing.violations[0]!.textWording!, zh)).toBe(
      'error_rate(control) <= 0.01 at 0.95 confidence：基线已是 2.5%，而上限为 1%，基于最近 60 分钟内未获得该功能的 20,000 次请求（在 95% 置信度下可以确定）',
    );
    expect(say(minutesWording(150), zh)).toBe('约 2.5 小时');
    expect(say(perMinuteWording(2.5), zh)).toBe('每分钟 2.5 次请求');
  });
});

describe("an ended rollout's next steps and the traffic note", () => {
  const now = at(10 * MINUTE);
  const kill = { actor: 'Rita', at: now.toISOString(), reason: 'P0' };
  const users = { rule: 'sample_ratio', metric: 'sample_ratio_users', cohort: 'treatment', threshold: 0.001, value: 0.1, samples: 1234, verdict: 'pass' };

  it('the same English as before, with the wording beside it, and Chinese through the catalog', () => {
    const zh = messageWords('zh-CN');
    const [again, restore] = rolloutStatus(rollout({ state: 'rolled_back', percentage: 10 }), kill, now).nextSteps;
    expect(again?.text).toBe('Start a new rollout of checkout-v2 from 0%, restoring the flag as it starts: every step watched and approved again');
    expect(restore).toMatchObject({
      text: 'Restore checkout-v2 in production as it is',
      warning: 'it would serve 10% again at once, and no rollout would watch it or roll it back',
    });
    for (const s of [again!, restore!]) expect(say(s.textWording!)).toBe(s.text);
    expect(say(restore!.warningWording!)).toBe(restore!.warning);
    expect(say(restore!.warningWording!, zh)).toBe('它会立即重新下发 10%，且没有发布观察或回滚它');

    const settled = '2026-03-02T11:00:00.000Z';
    const traffic = rolloutStatus(rollout({ gates: [users as CheckResult], trafficSettledAt: settled }), undefined, now).traffic!;
    expect(traffic.text).toBe(`sample ratio judged on 1,234 distinct users since ${settled}`);
    expect(say(traffic.textWording!)).toBe(traffic.text);
    expect(say(traffic.textWording!, zh)).toBe(`样本比例按 1,234 位不同用户判定（自 ${settled} 起）`);
    const waiting = rolloutStatus(rollout({ gates: [{ ...users, value: null } as CheckResult] }), undefined, now).traffic!;
    expect(waiting.text).toBe('sample ratio waiting: counting has not started');
    expect(say(waiting.textWording!, zh)).toBe('样本比例等待中：尚未开始计数');
  });
});
