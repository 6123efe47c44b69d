import type { Words } from '../policies/policy-words.js';

/**
 * Notifications in Simplified Chinese, for webhooks set to `language: "zh-CN"`: the facts' labels
 * and words, the links' labels, and the sentences of the headline (headline.ts, HEADLINES_ZH) and
 * of the lines under it (message-lines.ts, LINES_ZH). What people and alerts wrote (reasons, comments, an alert's summary) stays as
 * written, and so does a rule in the policy's notation; numbers keep their units either way.
 */

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

/** A fact's value where it is a word of ours (a state, in `w`'s words; the kill switch, an action); names and numbers as they are. */
export function factValueZh(label: string, value: string, w: Words): string {
  if (label === 'Step') return value.replace(/\((\w+)\)$/, (_m, state: string) => `（${w(state.replace(/_/g, ' '))}）`);
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

/**
 * The headlines (headline.ts): English template → Chinese, with the same placeholders.
 */
export const HEADLINES_ZH: Readonly<Record<string, string>> = {
  '{subject} in {env}': '{env} 中的 {subject}',
  'release {name} ({flags})': '版本 {name}（{flags}）',
  'Rollout of {what} started at {pct}% by {by}': '{by} 开始了 {what} 的发布，当前 {pct}%',
  '{what} advanced {from}% → {to}%{last}': '{what} 已从 {from}% 推进到 {to}%{last}',
  ' (the last step)': '（最后一步）',
  '{what} is waiting for approval to go to {pct}% ({n} approval needed from {roles})': '{what} 等待审批以进入 {pct}%（需要 {roles} 的 {n} 个批准）',
  '{what} is waiting for approval to go to {pct}% ({n} approvals needed from {roles})': '{what} 等待审批以进入 {pct}%（需要 {roles} 的 {n} 个批准）',
  anyone: '任何人',
  'Gates failing for {what} at {pct}%': '{what} 在 {pct}% 时闸门未通过',
  '{what} paused at {pct}%: {reason}': '{what} 已在 {pct}% 暂停：{reason}',
  '{what} resumed at {pct}% by {by}': '{by} 已让 {what} 在 {pct}% 继续',
  'ROLLED BACK: {what} was switched off at {pct}%': '已回滚：{what} 在 {pct}% 时被关闭',
  '{what} completed at {pct}%': '{what} 已在 {pct}% 完成',
  '{what} aborted at {pct}%: {reason}': '{what} 已在 {pct}% 中止：{reason}',
  'Rollout of {what} scheduled to start at {time} by {by}': '{by} 安排了 {what} 的发布，开始时间 {time}',
  '{subject} promoted from {from} to {to} by pipeline {pipeline}': '流水线 {pipeline} 已将 {subject} 从 {from} 推进到 {to}',
  'KILLED: {what} was switched off by {by}': '已紧急关闭：{by} 关闭了 {what}',
  'RESTORED: {what} was switched back on by {by}': '已恢复：{by} 重新开启了 {what}',
  ' at {pct}%': '，当前 {pct}%',
  'KILLED by alert {alert}: {what} was switched off': '告警 {alert} 触发紧急关闭：{what} 已关闭',
  'ROLLED BACK by alert {alert}: {what} was switched off{at}': '告警 {alert} 触发回滚：{what} 已关闭{at}',
  'Paused by alert {alert}: {what}{at}': '告警 {alert} 触发暂停：{what}{at}',
  'Resumed: alert {alert} resolved, {what} goes on{at}': '已继续：告警 {alert} 已恢复，{what} 继续发布{at}',
  'Kill drill of {flag} in {env}: all {n} SDK instance confirmed within {ms}': '{env} 中 {flag} 的关闭演练：全部 {n} 个 SDK 实例在 {ms} 内确认',
  'Kill drill of {flag} in {env}: all {n} SDK instances confirmed within {ms}': '{env} 中 {flag} 的关闭演练：全部 {n} 个 SDK 实例在 {ms} 内确认',
  'Kill drill of {flag} in {env}: {missing} of {n} SDK instance never confirmed': '{env} 中 {flag} 的关闭演练：{n} 个 SDK 实例中有 {missing} 个从未确认',
  'Kill drill of {flag} in {env}: {missing} of {n} SDK instances never confirmed': '{env} 中 {flag} 的关闭演练：{n} 个 SDK 实例中有 {missing} 个从未确认',
  'Test message: webhook {id} reaches this channel': '测试消息：Webhook {id} 可以送达此频道',
};
