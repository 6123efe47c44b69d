/**
 * A rollout's pre-flight (preflight-wording.ts) in Simplified Chinese: English template →
 * translation, placeholders kept. "{n} requests" is the unit catalog's own entry, not repeated here.
 */
export const PREFLIGHT_ZH_CN: Readonly<Record<string, string>> = {
  '< 1 min': '不到 1 分钟',
  '~{n} min': '约 {n} 分钟',
  '~{n} h': '约 {n} 小时',
  '~{n} days': '约 {n} 天',
  '{n} requests/min': '每分钟 {n} 次请求',
  'no requests without the feature over the last {minutes} min ({rate} in all)': '最近 {minutes} 分钟内没有未获得该功能的请求（总计{rate}）',
  '{rate}; {errorRate} errors in {requests} without the feature over the last {minutes} min':
    '{rate}；最近 {minutes} 分钟内未获得该功能的 {requests}中错误率为 {errorRate}',
  '{rule}: the baseline is already {value} against {max}, over {requests} without the feature in the last {minutes} min{confident}':
    '{rule}：基线已是 {value}，而上限为 {max}，基于最近 {minutes} 分钟内未获得该功能的 {requests}{confident}',
  ' (beyond doubt at {confidence} confidence)': '（在 {confidence} 置信度下可以确定）',
  'no traffic: no outcomes were reported for the flag in the window': '没有流量：该时间窗口内没有上报该开关的结果',
  'an error rate of {rate} cannot double': '错误率 {rate} 无法翻倍',
  'no traffic without the feature in the window: there is no baseline to check or to detect a doubling of':
    '该时间窗口内没有未获得该功能的流量：没有可检查的基线，也无从检测其翻倍',
  'no traffic: no outcomes were reported for the flag in the window, so there is nothing to check and no time can be estimated':
    '没有流量：该时间窗口内没有上报该开关的结果，因此没有可检查的内容，也无法估计时间',
  'no errors in {requests}: the times are for a doubling of {rate} (half an error in the window)':
    '{requests}中没有错误：时间按 {rate}（窗口内半个错误）的翻倍估计',
  'the baseline error rate is {rate}: a doubling cannot be detected': '基线错误率为 {rate}：无法检测到翻倍',
  "the policy's error-rate checks name no confidence: times are at {confidence}": '策略的错误率检查未指定置信度：时间按 {confidence} 估计',
  'the policy has no error-rate gate or rollback rule: nothing in it acts on a doubling, the times only say when one would show':
    '策略没有错误率闸门或回滚规则：翻倍不会触发任何动作，这些时间只说明翻倍何时会显现',
};
