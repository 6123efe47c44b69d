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
  'the flag is killed here ({reason}): a person must restore it or abort the rollout': '该开关在此环境已被紧急关闭（{reason}）：需要有人恢复它或中止发布',
  'scheduled to start at {at}': '计划于 {at} 开始',
  'the step started': '本步开始',
  '{fetched} of {instances} SDK instances have': '{instances} 个 SDK 实例中已有 {fetched} 个获取',
  'the controller is applying it': '控制器正在应用本步',
  'counting starts once the SDKs have fetched the step: {who} (at the latest {until})': 'SDK 获取到本步后开始计数：{who}（最迟 {until}）',
  '{n} evaluations reported since the step started; {waiting}': '本步开始以来已上报 {n} 次评估；{waiting}',
  'no evaluations reported since {since} yet, of the {needed} needed (SDKs report every metrics interval, 60 s by default)':
    '自 {since} 以来尚未上报评估，需要 {needed} 次（SDK 每个指标间隔上报一次，默认 60 秒）',
  '{n} evaluations reported since {since}, of the {needed} needed': '自 {since} 以来已上报 {n} 次评估，需要 {needed} 次',
  '{share} of {n} evaluations got the feature': '{n} 次评估中有 {share} 获得了该功能',
  'no evaluations reported yet': '尚未上报评估',
  'not judged: no application reported users, only evaluations, and a share of evaluations follows how much each user uses the product ({shown})':
    '未判定：没有应用上报用户，只上报了评估，而评估的占比随每位用户使用产品的多少而变（{shown}）',
  'sample ratio mismatch: {share} of about {users} users got the feature, the step serves {served} (p = {p}, user counts estimated from a sample, with its error allowed for): check SDK versions, caching, or other strategies on the flag':
    '样本比例不符：约 {users} 位用户中有 {share} 获得了该功能，本步下发 {served}（p = {p}，用户数由抽样估计，已计入其误差）：请检查 SDK 版本、缓存或该开关上的其他策略',
  'sample ratio mismatch: {share} of {users} users got the feature, the step serves {served} (p = {p}): check SDK versions, caching, or other strategies on the flag':
    '样本比例不符：{users} 位用户中有 {share} 获得了该功能，本步下发 {served}（p = {p}）：请检查 SDK 版本、缓存或该开关上的其他策略',
};
