/** Why the audit log's hash chain is not intact (chain-wording.ts) in Simplified Chinese: English template → translation, placeholders kept. */
export const CHAIN_ZH_CN: Readonly<Record<string, string>> = {
  'event {seq} is missing (found {found} at position {position})': '缺少事件 {seq}（在位置 {position} 处找到的是 {found}）',
  'event {seq} does not link to event {previous}': '事件 {seq} 没有链接到事件 {previous}',
  'event {seq} was altered (its hash does not match its content)': '事件 {seq} 已被篡改（其哈希与内容不符）',
  'the log ends at event {last} but its head records event {head}': '日志止于事件 {last}，但其头部记录的是事件 {head}',
  'event {seq} lies beyond the head, which records event {head}: the head was deleted or rolled back':
    '事件 {seq} 位于头部之后，而头部记录的是事件 {head}：头部被删除或回退了',
  'the store lost data ({reason}): its audit log held at least {atLeast} events and holds {now} now; restore a backup, or accept the loss (POST /api/admin/store/accept-loss)':
    '存储丢失了数据（{reason}）：其审计日志曾至少有 {atLeast} 个事件，现在只有 {now} 个；请恢复备份，或接受该损失（POST /api/admin/store/accept-loss）',
  'this replica saw the audit log reach event {seen}, and it now ends at event {now}: events were removed together with their head':
    '此副本曾看到审计日志到达事件 {seen}，而现在止于事件 {now}：有事件连同其头部一起被删除了',
};
