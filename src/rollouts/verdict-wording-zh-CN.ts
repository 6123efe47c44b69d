/**
 * The step verdicts and check reasons the decision core words (verdict-wording.ts) in Simplified
 * Chinese: English template → translation, placeholders kept. Words the dashboard already has
 * ("no data", "not started", "treatment", "{s}s") are taken from its catalog, not repeated here.
 */
export const VERDICTS_ZH_CN: Readonly<Record<string, string>> = {
  '{n} of {min} samples': '已有 {n} 个样本，需要 {min} 个',
  '{n} of {min} treatment samples': '实验组已有 {n} 个样本，需要 {min} 个',
  '{n} of {min} control samples': '对照组已有 {n} 个样本，需要 {min} 个',
  'no control cohort at 100 %': '100% 时已没有对照组',
  'above {max} but not yet beyond doubt at {confidence} confidence': '高于 {max}，但在 {confidence} 置信度下尚不能确定',
  'above the threshold but not beyond doubt': '高于阈值，但尚不能确定',
  'worse than allowed but not yet beyond doubt at {confidence} confidence': '比允许的差，但在 {confidence} 置信度下尚不能确定',
  "over the line but not beyond doubt after {after}x the step's minimum duration and samples: benefit of the doubt":
    '超过界线但不能确定，且步骤已达到最短时长和最少样本数的 {after} 倍：从宽判定为通过',
  'no query result (no metric provider configured?)': '没有查询结果（未配置指标提供方？）',
  'step minimum duration: {left} to go': '步骤最短时长：还需 {left}',
  '{rule}: {reason}': '{rule}：{reason}',
  '{rule} on {flag}: {reason}': '{rule}（开关 {flag}）：{reason}',
  '{value} over {samples}': '{value}，基于 {samples}',
  '{first}; {next}': '{first}；{next}',
  'gate {rule} failed, but control is as bad: shared incident ({treatment}, {control}); holding until it clears':
    '闸门 {rule} 未通过，但对照组同样糟糕：属于共同事故（{treatment}，{control}）；保持当前步骤直至恢复',
  'rollback rule {rule} breached, but control is as bad: shared incident ({treatment}, {control}); holding until it clears':
    '回滚规则 {rule} 被突破，但对照组同样糟糕：属于共同事故（{treatment}，{control}）；保持当前步骤直至恢复',
  'treatment {value} over {samples}': '实验组 {value}，基于 {samples}',
  'control {value} over {samples}': '对照组 {value}，基于 {samples}',
  'step just started': '步骤刚开始',
  'step restarted on resume': '恢复后步骤重新开始',
  'Go/No-Go: approval for {pct}%': '放行决策：等待 {pct}% 的审批',
  'metrics unavailable: {error}': '指标不可用：{error}',
  'scheduled to start at {at}': '计划于 {at} 开始',
};
