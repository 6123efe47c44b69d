import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dingtalkMessage } from '../../src/notifications/formats/dingtalk.js';
import { emailMessage } from '../../src/notifications/formats/email.js';
import { summarize } from '../../src/notifications/message.js';
import { httpPlan } from '../../src/notifications/payloads.js';
import { putWebhookSchema } from '../../src/notifications/webhook-model.js';
import { pipelinePromotedEvent, rolloutScheduledEvent, type NotificationEvent } from '../../src/notifications/events.js';
import { HEADLINES_ZH, LINES_ZH } from '../../src/notifications/message-zh-CN.js';
import { say } from '../../src/rollouts/reason-wording.js';
import { REASONS_ZH_CN } from '../../src/rollouts/reason-wording-zh-CN.js';
import { VERDICTS_ZH_CN } from '../../src/rollouts/verdict-wording-zh-CN.js';
import { PIPELINES_ZH_CN } from '../../src/pipelines/pipeline-wording-zh-CN.js';
import { STATUS_ZH_CN } from '../../src/rollouts/status-wording-zh-CN.js';
import { PREFLIGHT_ZH_CN } from '../../src/rollouts/preflight-wording-zh-CN.js';
import { DRILLS_ZH_CN } from '../../src/propagation/drill-verdict-zh-CN.js';
import { CHAIN_ZH_CN } from '../../src/audit/chain-wording-zh-CN.js';
import { testEvent } from '../../src/notifications/published-events.js';
import dashboardZhCN from '../../src/ui/client/locales/zh-CN.js';
import { analysis, at, bob, HEALTHY, MINUTE, rollout } from '../unit/decide-fixtures.js';
import { AT, alert, decidedEvents, drill, ref, ritasKill, rolledBack, runningR9 } from './sample-events.js';

/**
 * Notifications in Simplified Chinese for a webhook with `language: "zh-CN"`: the headline, the
 * facts' labels and words, the links' labels and the lines the controller writes under the headline
 * (checks, approvals, rollout and drill lines, times ahead) in Chinese; names, what people and
 * alerts wrote and the numbers as they are; English stays the default.
 */

describe('notification language', () => {
  const kill = ritasKill('checkout errors');

  it('zh-CN: Chinese headline, labels, words and lines; flag, environment, person and reason as written', () => {
    const s = summarize(kill, 'zh-CN');
    expect(s.title).toBe('已紧急关闭：Rita 关闭了 production 中的 checkout');
    expect(s.facts).toEqual([
      { label: '开关', value: 'checkout' },
      { label: '环境', value: 'production' },
      { label: '紧急开关', value: '开（下发为停用）' },
      { label: '操作人', value: 'Rita' },
    ]);
    expect(s.links.map((l) => l.label)).toEqual(['在控制台中打开该开关', '在控制台中打开该发布']);
    expect(s.lines).toEqual(['原因：checkout errors', '发布 r-9（standard）进行中，当前 10%']);
  });

  it.each<[string, NotificationEvent, string[]]>([
    [
      "a rollback: the controller's reason, the checks with their units, what was switched off",
      rolledBack(),
      [
        '回滚规则 error_rate(treatment) > 0.05 for 5m 被突破：error_rate 为 8%，基于 2,000 次请求',
        '✗ error_rate(treatment) > 5% for 5m：8%（上限 5%），基于 2,000 次请求',
        '已关闭：checkout-v2, checkout-v2-banner',
      ],
    ],
    [
      "a person's rollback: the sentence in Chinese, the comment as typed",
      decidedEvents(rollout(), { kind: 'rollback', by: bob, comment: 'P0 in checkout' }, at(MINUTE))[0]!,
      ['Bob 回滚了发布：P0 in checkout', '已关闭：checkout-v2, checkout-v2-banner'],
    ],
    [
      'the gates of a step waiting for approval',
      decidedEvents(rollout(), analysis(HEALTHY), at(11 * MINUTE))[0]!,
      ['✓ error_rate(treatment) <= 1%：0.2%（上限 1%），基于 2,000 次请求', '✓ latency_p99_ms(treatment) <= 500 ms：50 ms（上限 500 ms），基于 2,000 次请求'],
    ],
    [
      'an approval with the comment as typed',
      decidedEvents(
        rollout({ state: 'awaiting_approval', stepVerdict: { kind: 'healthy' } }),
        { kind: 'approve', by: bob, comment: 'looks good' },
        at(20 * MINUTE),
      )[0]!,
      ['Bob 已批准：“looks good”'],
    ],
    [
      'how long until a scheduled start',
      rolloutScheduledEvent(ref({ id: 'r-5', state: 'pending', stepIndex: 0, percentage: 0 }), { startAt: '2026-01-17T14:00:00+08:00', by: 'Erin' }, AT),
      ['3 小时 20 分钟后开始，从策略 standard 的第一步开始'],
    ],
    [
      "a promotion: the pipeline's rule as written, the new rollout's state in Chinese",
      pipelinePromotedEvent(
        {
          pipeline: 'path',
          fromEnvironment: 'staging',
          toEnvironment: 'production',
          rollout: ref({ percentage: 1, stepIndex: 0 }),
          rule: 'completed and 1h without a breach',
        },
        AT,
      ),
      ['在 staging 中满足规则：completed and 1h without a breach', 'production 中的发布 r-7 遵循策略 standard：进行中，当前 1%'],
    ],
    [
      'an alert: its summary as the alert said it',
      alert('pause', { environment: 'production', flags: ['checkout'], rollout: { ...runningR9, state: 'paused' } }),
      ['告警：load > 80 % on api-1 for 5m', '通用告警触发中，指纹 a1b2c3d4', '发布 r-9（standard）已暂停，当前 10%'],
    ],
    [
      'a drill an instance never confirmed',
      drill(1),
      ['100 个实例中 99 个已确认', '送达 50%：120 ms · 99%：340 ms · 最后一个：未送达', 'Rita 进行了演练：quarterly drill；紧急开关已在演练后恢复'],
    ],
    [
      'a test message',
      testEvent('release-room', 'Ada Admin', AT),
      ['Ada Admin 发送此消息以检查该 Webhook', '真实消息会写明开关、环境、以百分比表示的步骤、发生了什么以及背后的数字'],
    ],
  ])('zh-CN lines: %s', (_name, event, lines) => {
    expect(summarize(event, 'zh-CN').lines).toEqual(lines);
  });

  it("zh-CN headlines: a pause, a rejection and an abort say who in Chinese and keep the person's comment as typed", () => {
    const paused = decidedEvents(rollout(), { kind: 'pause', by: bob, comment: 'waiting for the DBA' }, at(MINUTE))[0]!;
    expect(summarize(paused, 'zh-CN').title).toBe('production 中的 checkout-v2 已在 1% 暂停：Bob 暂停了发布：waiting for the DBA');
    expect(summarize(paused).title).toBe('checkout-v2 in production paused at 1%: paused by Bob: waiting for the DBA');
    const rejected = decidedEvents(rollout({ state: 'awaiting_approval', stepVerdict: { kind: 'healthy' } }), { kind: 'reject', by: bob }, at(MINUTE))[0]!;
    expect(summarize(rejected, 'zh-CN').title).toBe('production 中的 checkout-v2 已在 1% 暂停：Bob 驳回了审批');
    const aborted = decidedEvents(rollout(), { kind: 'abort', by: bob, comment: 'wrong flag' }, at(MINUTE))[0]!;
    expect(summarize(aborted, 'zh-CN').title).toMatch(/中止：Bob 中止了发布：wrong flag$/);
    // A scheduled start reads as its setter wrote it, with its offset, in both languages.
    const scheduled = rolloutScheduledEvent(
      ref({ id: 'r-5', state: 'pending', stepIndex: 0, percentage: 0 }),
      { startAt: '2026-01-17T14:00:00+08:00', by: 'Erin' },
      AT,
    );
    const when = summarize(scheduled).title.match(/start at (.+) by Erin$/)?.[1];
    expect(when).toMatch(/^2026-01-17 14:00/);
    expect(summarize(scheduled, 'zh-CN').title).toContain(`开始时间 ${when}`);
  });

  it("the history keeps the controller's English text, which is its wording said in English; an older record without the wording is shown as written", () => {
    const e = rolledBack();
    if (e.type !== 'rollout.rolled_back') throw new Error(e.type);
    expect(e.details.reason).toBe('rollback rule error_rate(treatment) > 0.05 for 5m breached: error_rate 8% over 2,000 requests');
    expect(say(e.details.reasonWording!)).toBe(e.details.reason);
    const older = { ...e, details: { ...e.details, reasonWording: undefined } };
    expect(summarize(older, 'zh-CN').lines[0]).toBe(e.details.reason);
  });

  it('every sentence the lines are written with has its Chinese, with the same placeholders', () => {
    const catalog = { ...dashboardZhCN, ...LINES_ZH };
    const sources = ['src/notifications/message-lines.ts', 'src/notifications/units.ts'].map((f) => readFileSync(f, 'utf8')).join('\n');
    const templates = [...sources.matchAll(/\bw\(\s*'((?:[^'\\]|\\.)*)'/g)].map((m) => m[1]!);
    // Every template of a reason the decision core words: each string with a placeholder there.
    const reasons = [...readFileSync('src/rollouts/reason-wording.ts', 'utf8').matchAll(/'((?:[^'\\\n])*\{\w+\}(?:[^'\\\n])*)'/g)].map((m) => m[1]!);
    expect(reasons.length).toBeGreaterThan(12);
    templates.push(...reasons);
    // Every template of a step verdict, a check's or a pipeline run's reason, a pre-flight sentence, the traffic note, a drill's verdict, a broken audit chain (verdict-wording.ts, pipeline-wording.ts, status-wording.ts, preflight-wording.ts, traffic-status.ts, drill-verdict.ts, chain-wording.ts): each wording(...) and each string with a placeholder.
    const verdictSource = [
      'src/rollouts/verdict-wording.ts',
      'src/pipelines/pipeline-wording.ts',
      'src/rollouts/status-wording.ts',
      'src/policies/change-window.ts',
      'src/rollouts/preflight-wording.ts',
      'src/rollouts/traffic-status.ts',
      'src/propagation/drill-verdict.ts',
      'src/audit/chain-wording.ts',
    ]
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const verdicts = [
      ...[...verdictSource.matchAll(/\bwording\(\s*(['"])((?:(?!\1)[^\\\n])*)\1/g)].map((m) => m[2]!),
      ...[...verdictSource.matchAll(/'([^'\\\n]*\{\w+\}[^'\\\n]*)'/g)].map((m) => m[1]!),
    ];
    expect(new Set(verdicts).size).toBeGreaterThan(85);
    templates.push(...verdicts);
    expect(templates.length).toBeGreaterThan(40);
    expect(templates.filter((t) => !(t in catalog))).toEqual([]);
    const placeholders = (text: string) =>
      [...text.matchAll(/\{(\w+)\}/g)]
        .map((m) => m[1])
        .sort()
        .join();
    expect(Object.entries(LINES_ZH).filter(([en, zh]) => placeholders(en) !== placeholders(zh))).toEqual([]);
    expect(
      Object.entries({ ...REASONS_ZH_CN, ...VERDICTS_ZH_CN, ...PIPELINES_ZH_CN, ...STATUS_ZH_CN, ...PREFLIGHT_ZH_CN, ...DRILLS_ZH_CN, ...CHAIN_ZH_CN }).filter(
        ([en, zh]) => placeholders(en) !== placeholders(zh),
      ),
    ).toEqual([]);
  });

  it('every headline template has its Chinese, with the same placeholders', () => {
    const templates = [...readFileSync('src/notifications/headline.ts', 'utf8').matchAll(/\bw\(\s*'((?:[^'\\]|\\.)*)'/g)].map((m) => m[1]!);
    expect(templates.length).toBeGreaterThan(25);
    const catalog = { ...dashboardZhCN, ...LINES_ZH, ...HEADLINES_ZH };
    expect(templates.filter((t) => !(t in catalog))).toEqual([]);
    const names = (text: string) => [...new Set([...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]))].sort().join();
    expect(Object.entries(HEADLINES_ZH).filter(([en, zh]) => names(en) !== names(zh))).toEqual([]);
  });

  it('English by default, unchanged', () => {
    expect(summarize(kill).title).toBe('KILLED: checkout in production was switched off by Rita');
    expect(summarize(kill, 'en')).toEqual(summarize(kill));
  });

  it('reaches the chat formats and the e-mail: a DingTalk body and an e-mail subject in Chinese', () => {
    const plan = httpPlan(
      { format: 'dingtalk', url: 'https://oapi.dingtalk.com/robot/send?access_token=x', secret: 'SEC0123456789abcdef', language: 'zh-CN' },
      kill,
      0,
    );
    expect(JSON.parse(plan.body).markdown.title).toContain('已紧急关闭');
    expect(dingtalkMessage(kill).markdown.title).toContain('KILLED');
    expect(emailMessage(kill, 'zh-CN').subject).toContain('已紧急关闭');
  });

  it('a webhook takes language en or zh-CN, and nothing else (the error names the field)', () => {
    expect(putWebhookSchema.parse({ format: 'json', url: 'https://example.com/h', language: 'zh-CN' }).language).toBe('zh-CN');
    const bad = putWebhookSchema.safeParse({ format: 'json', url: 'https://example.com/h', language: 'fr' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['language']);
  });
});
