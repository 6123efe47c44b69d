/**
 * Where a rollout stands (status-wording.ts) in Simplified Chinese: English template → translation,
 * placeholders kept. Words the dashboard already has (states, "change window open", ", {n} failing")
 * come from its catalog.
 */
export const STATUS_ZH_CN: Readonly<Record<string, string>> = {
  'served disabled (kill switch: {reason})': '已下发为停用（紧急开关：{reason}）',
  'serving nobody (0%)': '未向任何人下发（0%）',
  'serving {pct}%': '正在下发 {pct}%',
  '; {confidence}% confidence bounds {lower} to {upper}': '；{confidence}% 置信区间 {lower} 至 {upper}',
  '{rule}: {value} over {samples} (threshold {threshold}{bounds})': '{rule}：{value}，基于 {samples}（阈值 {threshold}{bounds}）',
  "the step's minimum time ({s} s from {at})": '本步最短时长（自 {at} 起 {s} 秒）',
  '{have} of {need} needed': '{have}，需要 {need}',
  '{n} treatment requests': '{n} 次实验组请求',
  'gates: {pass} of {total} passing{fail}{inconclusive}{reason}': '闸门：{total} 个中 {pass} 个通过{fail}{inconclusive}{reason}',
  ' ({reason})': '（{reason}）',
  'approval for {pct}%: {have} of {need} ({roles}){given}': '{pct}% 的审批：{have} / {need}（{roles}）{given}',
  ', given by {names}': '，批准人 {names}',
  'the change window{reason}': '变更窗口{reason}',
  'the scheduled start at {at}': '计划开始时间 {at}',
  "the {pct}% step's not-before time passed": '{pct}% 步的不早于时间已过',
  "the {pct}% step's not-before time ({at})": '{pct}% 步的不早于时间（{at}）',
  'a person to resume ({reason})': '有人恢复发布（{reason}）',
  'Completed, watching until {until}: {flag} reached {pct}% in {env}; now {served}, and a breached rollback rule still rolls it back.':
    '已完成，观察至 {until}：{flag} 在 {env} 中已达到 {pct}%；当前{served}，回滚规则被突破时仍会回滚。',
  'Completed: {flag} reached {pct}% in {env}; now {served}.{watched}': '已完成：{flag} 在 {env} 中已达到 {pct}%；当前{served}。{watched}',
  ' Its rollback rules watched for {duration} after completion, with no breach.': '完成后回滚规则观察了 {duration}，未发生突破。',
  'Rolled back at {pct}%{watch}: {flag} is {served} in {env}.{cause}': '已在 {pct}% 回滚{watch}：{flag} 在 {env} 中{served}。{cause}',
  ' during the watch after completion (completed {at})': '（发生在完成后的观察期内，完成于 {at}）',
  ' Cause: {cause}.': '原因：{cause}。',
  'Aborted: {reason}; {flag} is {served} in {env}.': '已中止：{reason}；{flag} 在 {env} 中{served}。',
  '{state}, {served}; waiting for {waits}.': '{state}，{served}；等待：{waits}。',
  'the next analysis': '下一次分析',
  'Start a new rollout of {flag} from 0%, restoring the flag as it starts: every step watched and approved again':
    '从 0% 开始 {flag} 的新发布，并在开始时恢复该开关：每一步都重新观察和审批',
  'Start a new rollout of {flag} from 0%: every step watched and approved again': '从 0% 开始 {flag} 的新发布：每一步都重新观察和审批',
  'Restore {flag} in {env} as it is': '按原样恢复 {env} 中的 {flag}',
  'it would serve {pct}% again at once, and no rollout would watch it or roll it back': '它会立即重新下发 {pct}%，且没有发布观察或回滚它',
  '{n} distinct users': '{n} 位不同用户',
  'sample ratio not judged: no application reported users (stock SDKs report evaluations only); the share of evaluations is shown for information':
    '样本比例未判定：没有应用上报用户（标准 SDK 只上报评估）；评估的占比仅供参考',
  'sample ratio judged on evaluations (an analysis from before users were counted)': '样本比例按评估判定（这是开始统计用户之前的分析）',
  'sample ratio waiting: {reason}': '样本比例等待中：{reason}',
  'counting has not started': '尚未开始计数',
  'sample ratio judged on {users}{since}': '样本比例按 {users}判定{since}',
  ' since {at}': '（自 {at} 起）',
};
