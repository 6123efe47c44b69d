import type { Words } from '../policies/policy-words.js';
import { count } from '../rollouts/units.js';
import { reasonIn } from '../rollouts/reason-wording.js';
import { isRolloutEvent, type NotificationEvent, type RolloutEvent, type RolloutRef } from './events.js';
import type { AlertEvent } from './published-events.js';

/**
 * Notifications in Simplified Chinese, for webhooks set to `language: "zh-CN"`: the headline, the
 * facts' labels and words, the links' labels, and the sentences of the lines under the headline
 * (LINES_ZH). What people and alerts wrote (reasons, comments, an alert's summary) stays as
 * written, and so does a rule in the policy's notation; numbers keep their units either way.
 */

const STATES: Record<string, string> = {
  scheduled: '已排期',
  pending: '等待开始',
  running: '进行中',
  awaiting_approval: '等待审批',
  paused: '已暂停',
  completed: '已完成',
  rolled_back: '已回滚',
  aborted: '已中止',
};
export const stateZh = (state: string) => STATES[state] ?? state;

const subjectOf = (r: RolloutRef) => (r.release ? `版本 ${r.release.name}` : r.flag);
const ms = (v: number | null) => (v === null ? '未送达' : `${count(v)} ms`);

function rolloutHeadline(e: RolloutEvent, w: Words): string {
  const env = e.rollout.environment;
  const what = `${env} 中的 ${subjectOf(e.rollout)}`;
  switch (e.type) {
    case 'rollout.started':
      return `${e.details.startedBy} 开始了 ${what} 的发布，当前 ${e.details.percentage}%`;
    case 'rollout.step_advanced':
      return `${what} 已从 ${e.details.fromPercentage}% 推进到 ${e.details.toPercentage}%${e.details.step === e.details.steps ? '（最后一步）' : ''}`;
    case 'rollout.awaiting_approval':
      return (
        `${what} 等待审批以进入 ${e.details.nextPercentage}%` + `（需要 ${e.details.roles.join(' 或 ') || '任何人'} 的 ${e.details.approvalsNeeded} 个批准）`
      );
    case 'rollout.gate_failing':
      return `${what} 在 ${e.rollout.percentage}% 时闸门未通过`;
    case 'rollout.paused':
      return `${what} 已在 ${e.rollout.percentage}% 暂停：${reasonIn(e.details, w)}`;
    case 'rollout.resumed':
      return `${e.details.by} 已让 ${what} 在 ${e.rollout.percentage}% 继续`;
    case 'rollout.rolled_back':
      return `已回滚：${what} 在 ${e.rollout.percentage}% 时被关闭`;
    case 'rollout.completed':
      return `${what} 已在 ${e.details.percentage}% 完成`;
    case 'rollout.aborted':
      return `${what} 已在 ${e.rollout.percentage}% 中止：${reasonIn(e.details, w)}`;
    case 'rollout.scheduled':
      return `${e.details.by} 安排了 ${what} 的发布，开始时间 ${e.details.startAt}`;
    case 'pipeline.promoted':
      return `流水线 ${e.details.pipeline} 已将 ${subjectOf(e.rollout)} 从 ${e.details.fromEnvironment} 推进到 ${e.details.toEnvironment}`;
  }
}

function alertHeadline(e: AlertEvent): string {
  const { target, details } = e;
  const flags = target.release ? `版本 ${target.release}（${target.flags.join(', ')}）` : target.flags.join(', ');
  const what = `${target.environment} 中的 ${flags}`;
  const at = target.rollout ? `，当前 ${target.rollout.percentage}%` : '';
  switch (details.action) {
    case 'kill':
      return `告警 ${details.alertName} 触发紧急关闭：${what} 已关闭`;
    case 'rollback':
      return `告警 ${details.alertName} 触发回滚：${what} 已关闭${at}`;
    case 'pause':
      return `告警 ${details.alertName} 触发暂停：${what}${at}`;
    case 'resume':
      return `已继续：告警 ${details.alertName} 已恢复，${what} 继续发布${at}`;
  }
}

/** The headline in Chinese: flag, environment and step as in English, in a Chinese sentence; `w` words a reason the controller wrote. */
export function headlineZh(e: NotificationEvent, w: Words): string {
  if (isRolloutEvent(e)) return rolloutHeadline(e, w);
  switch (e.type) {
    case 'flag.killed':
      return `已紧急关闭：${e.details.actor} 关闭了 ${e.flag.environment} 中的 ${e.flag.name}`;
    case 'flag.restored':
      return `已恢复：${e.details.actor} 重新开启了 ${e.flag.environment} 中的 ${e.flag.name}`;
    case 'alert.acted':
      return alertHeadline(e);
    case 'flag.drilled': {
      const { instances, missing } = e.details;
      const what = `${e.flag.environment} 中 ${e.flag.name} 的关闭演练`;
      return missing === 0
        ? `${what}：全部 ${count(instances)} 个 SDK 实例在 ${ms(e.details.ms.max)} 内确认`
        : `${what}：${count(instances)} 个 SDK 实例中有 ${missing} 个从未确认`;
    }
    case 'webhook.test':
      return `测试消息：Webhook ${e.webhook.id} 可以送达此频道`;
  }
}

const LABELS: Record<string, string> = {
  Release: '版本',
  Flags: '开关',
  Flag: '开关',
  Environment: '环境',
  Policy: '策略',
  Step: '步骤',
  'Kill switch': '紧急开关',
  By: '操作人',
  Action: '操作',
  Alert: '告警',
  Confirmed: '已确认',
  Slowest: '最慢',
  Webhook: 'Webhook',
  'Sent by': '发送人',
  'Open the webhooks page': '打开 Webhook 页面',
  'Open the rollout in the dashboard': '在控制台中打开该发布',
  'Open the flag in the dashboard': '在控制台中打开该开关',
};
export const labelZh = (label: string) => LABELS[label] ?? label;

const ACTIONS: Record<string, string> = { kill: '紧急关闭', rollback: '回滚', pause: '暂停', resume: '继续' };

/** A fact's value where it is a word of ours (a state, the kill switch, an action); names and numbers as they are. */
export function factValueZh(label: string, value: string): string {
  if (label === 'Step') return value.replace(/\((\w+)\)$/, (_m, state: string) => `（${stateZh(state)}）`);
  if (label === 'Kill switch') return value === 'off' ? '关' : '开（下发为停用）';
  if (label === 'Action') return ACTIONS[value] ?? value;
  if (label === 'Confirmed') return value.replace(' of ', ' / ');
  if (label === 'Slowest' && value === 'not reached') return '未送达';
  return value;
}

/**
 * The lines under the headline (message-lines.ts, units.ts): English template → Chinese, the
 * placeholders kept. State and unit words come from the dashboard's catalog (message-words.ts).
 */
export const LINES_ZH: Readonly<Record<string, string>> = {
  'Reason: {reason}': '原因：{reason}',
  'Rollout {id} ({policy}) is {state} at {pct}%': '发布 {id}（{policy}）{state}，当前 {pct}%',
  'Switched off: {flags}': '已关闭：{flags}',
  // The controller's reasons are worded in src/rollouts/reason-wording-zh-CN.ts (shared with the dashboard and the report).
  'Approved by {by}: “{comment}”': '{by} 已批准：“{comment}”',
  'Approved by {by}': '{by} 已批准',
  'Starts in {duration}, at the first step of the policy {policy}': '{duration}后开始，从策略 {policy} 的第一步开始',
  'Rule met in {env}: {rule}': '在 {env} 中满足规则：{rule}',
  'Rollout {id} in {env} follows the policy {policy}: {state} at {pct}%': '{env} 中的发布 {id} 遵循策略 {policy}：{state}，当前 {pct}%',
  'Rollout {id} in {env} follows the policy {policy}: {state}': '{env} 中的发布 {id} 遵循策略 {policy}：{state}',
  'Alert: {summary}': '告警：{summary}',
  'Alertmanager alert {status}, fingerprint {fingerprint}': 'Alertmanager 告警{status}，指纹 {fingerprint}',
  'Generic alert {status}, fingerprint {fingerprint}': '通用告警{status}，指纹 {fingerprint}',
  firing: '触发中',
  resolved: '已恢复',
  'Confirmed by {confirmed} of {n} instance': '{n} 个实例中 {confirmed} 个已确认',
  'Confirmed by {confirmed} of {n} instances': '{n} 个实例中 {confirmed} 个已确认',
  'Time to 50%: {p50} · 99%: {p99} · the last: {max}': '送达 50%：{p50} · 99%：{p99} · 最后一个：{max}',
  'Drilled by {by}: {reason}; the kill switch was restored afterwards': '{by} 进行了演练：{reason}；紧急开关已在演练后恢复',
  'Drilled by {by}; the kill switch was restored afterwards': '{by} 进行了演练；紧急开关已在演练后恢复',
  'Sent by {by} to check this webhook': '{by} 发送此消息以检查该 Webhook',
  'Real messages name the flag, the environment, the step as a percentage, what happened and the numbers behind it':
    '真实消息会写明开关、环境、以百分比表示的步骤、发生了什么以及背后的数字',
  '{mark} {rule}: {value} (limit {threshold}) over {samples}': '{mark} {rule}：{value}（上限 {threshold}），基于 {samples}',
  '{mark} {rule}: {value} (expected {threshold}) over {samples}': '{mark} {rule}：{value}（预期 {threshold}），基于 {samples}',
  '{mark} {rule}: {value} (needed {threshold}) over {samples}': '{mark} {rule}：{value}（需要 {threshold}），基于 {samples}',
  'less than a minute': '不到一分钟',
  '{minutes} min': '{minutes} 分钟',
  '{hours} h': '{hours} 小时',
  '{hours} h {minutes} min': '{hours} 小时 {minutes} 分钟',
  '{days} days': '{days} 天',
  '{days} days {hours} h': '{days} 天 {hours} 小时',
};
