/**
 * A drill's verdict and why it did not restore the flag (drill-verdict.ts) in Simplified Chinese:
 * English template → translation, placeholders kept. "not reached" is the dashboard catalog's own.
 */
export const DRILLS_ZH_CN: Readonly<Record<string, string>> = {
  ' The flag was NOT restored: {why}.': '该开关未被恢复：{why}。',
  'Verified: all {n} connected SDK instances had the kill within {time}.{restored}':
    '已验证：全部 {n} 个已连接的 SDK 实例在 {time}内收到了紧急关闭。{restored}',
  ' (the drill could not read what the instances hold: {error})': '（演练无法读取各实例持有的状态：{error}）',
  'unknown error': '未知错误',
  ' (the controller replica running it shut down, and it restored early)': '（运行演练的控制器副本已关闭，演练提前恢复了开关）',
  ' within {s} s': '（在 {s} 秒内）',
  'Not verified: {missing} of {n} connected SDK instances never had the kill{why}.{restored}':
    '未验证：{n} 个已连接的 SDK 实例中有 {missing} 个始终未收到紧急关闭{why}。{restored}',
  'not attempted': '未尝试',
  'the flag was killed for real during the drill (by {actor}: {reason}), so it stays killed': '演练期间该开关被真正紧急关闭（{actor}：{reason}），因此保持关闭',
  'restoring failed ({error}); restore it by hand: rolloutctl restore {flag} --env {env}':
    '恢复失败（{error}）；请手动恢复：rolloutctl restore {flag} --env {env}',
};
