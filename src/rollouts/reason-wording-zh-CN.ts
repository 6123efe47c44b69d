/**
 * The reasons the decision core words (reason-wording.ts) in Simplified Chinese: English template →
 * translation, placeholders kept. One source for each sentence: the dashboard's catalog takes these
 * in, and notifications and the go-live report take them from there.
 */
export const REASONS_ZH_CN: Readonly<Record<string, string>> = {
  'paused by {name}: {comment}': '{name} 暂停了发布：{comment}',
  'paused by {name}': '{name} 暂停了发布',
  'rejected by {name}: {comment}': '{name} 驳回了审批：{comment}',
  'rejected by {name}': '{name} 驳回了审批',
  'aborted by {name}: {comment}': '{name} 中止了发布：{comment}',
  'aborted by {name}': '{name} 中止了发布',
  'rolled back by {name}: {comment}': '{name} 回滚了发布：{comment}',
  'rolled back by {name}': '{name} 回滚了发布',
  'rollback rule {rule} breached{where}: {metric} {value} over {samples}{watch}': '回滚规则 {rule} 被突破{where}：{metric} 为 {value}，基于 {samples}{watch}',
  ' on {flag}': '（开关 {flag}）',
  ' (during the {duration} watch after completion)': '（发生在完成后 {duration} 的观察期内）',
  'gate {rule} failed beyond doubt: {metric} {value} over {samples}{bounds}': '闸门 {rule} 确定未通过：{metric} 为 {value}，基于 {samples}{bounds}',
  ' (bounds {lower} to {upper} at {confidence}% confidence)': '（{confidence}% 置信区间 {lower} 至 {upper}）',
  'the {pct}% step did not pass its gates within its maximum duration: {why}': '{pct}% 步在最长时长内未通过闸门：{why}',
  'resumed by {name}': '{name} 恢复了发布',
  'scheduled start ({at})': '按计划开始（{at}）',
  'rollout started': '发布已开始',
  'advanced to {pct}%': '已推进到 {pct}%',
  'last step healthy': '最后一步健康',
  'last step healthy; rollback rules watch until {until} ({duration})': '最后一步健康；回滚规则继续观察至 {until}（{duration}）',
  '{n} approval(s) from {roles} needed for {pct}%': '进入 {pct}% 还需 {roles} 的 {n} 个审批',
  'Go/No-Go: {needed}; serving nothing until then': '放行决策：{needed}；在此之前不向任何人下发',
  'the {pct}% step is healthy; {needed}': '{pct}% 步健康；{needed}',
  '{date} is a holiday ({holidays}, {tz})': '{date} 是节假日（{holidays}，{tz}）',
  '{date} is a denied date ({tz})': '{date} 是禁止变更的日期（{tz}）',
  '{date} is in the last {n} day(s) of the month ({tz})': '{date} 在当月最后 {n} 天内（{tz}）',
  'outside every allowed change window': '不在任何允许的变更窗口内',
  '{closed}; opens next at {at}': '{closed}；下次开启于 {at}',
  '{closed}; it does not open within the next {days} days': '{closed}；未来 {days} 天内不会开启',
};
