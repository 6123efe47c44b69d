/** Pipeline runs' and stages' reasons (pipeline-wording.ts) in Simplified Chinese: English template → translation, placeholders kept. */
export const PIPELINES_ZH_CN: Readonly<Record<string, string>> = {
  '{environment}: the rollout rolled back ({why})': '{environment}：发布已回滚（{why}）',
  '{environment}: the rollout was aborted ({why})': '{environment}：发布已中止（{why}）',
  'stopped: {why}': '已停止：{why}',
  'every stage completed': '所有阶段均已完成',
  'stopped by {name}: {reason}': '{name} 停止了流水线：{reason}',
  'completed at {at}': '完成于 {at}',
  'waiting: the flag is killed in {environment}, which is not "without a breach"': '等待中：该开关在 {environment} 中已被紧急关闭，不算“未发生突破”',
  'starts at {at}: {duration} after {environment} completed without a breach': '开始于 {at}：{environment} 完成且未发生突破后 {duration}',
  'promoted: {environment} completed and stayed without a breach for {duration}': '已晋级：{environment} 已完成，且 {duration} 内未发生突破',
};
