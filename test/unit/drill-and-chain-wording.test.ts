import { describe, expect, it } from 'vitest';
import { ChainVerifier, GENESIS_HASH, sealEvent, type AuditEvent } from '../../src/audit/chain.js';
import { storeLostData } from '../../src/audit/chain-wording.js';
import { messageWords } from '../../src/notifications/message-words.js';
import type { DrillRecord } from '../../src/propagation/drill-record.js';
import { drillVerdict, drillVerdictWording, killedForReal, restoreFailed } from '../../src/propagation/drill-verdict.js';
import { say } from '../../src/rollouts/reason-wording.js';

/**
 * A drill's verdict, why it did not restore the flag, and why the audit chain is broken: said in
 * English, the text these have always been, byte for byte; said through the Chinese catalog,
 * Chinese with the numbers, names and commands as they are.
 */

const zh = messageWords('zh-CN');

describe('drill wording', () => {
  const drill = (over: Partial<DrillRecord>): DrillRecord =>
    ({ instances: 3, confirmed: 3, ended: 'all-confirmed', ms: { p50: 40, p99: 900, max: 1234 }, timeoutSeconds: 30, ...over }) as DrillRecord;
  const notRestored = (w: ReturnType<typeof killedForReal>) => ({ restored: false as const, why: say(w), whyWording: w });

  it('says the verdict as before, in English and in Chinese', () => {
    const verified = drill({ restore: { restored: true, at: '2026-03-02T12:00:00Z' } });
    expect(drillVerdict(verified)).toBe('Verified: all 3 connected SDK instances had the kill within 1,234 ms.');
    expect(say(drillVerdictWording(verified), zh)).toBe('已验证：全部 3 个已连接的 SDK 实例在 1,234 ms内收到了紧急关闭。');
    const killed = drill({ confirmed: 1, ended: 'timed-out', restore: notRestored(killedForReal('Rita', 'P0 in checkout')) });
    expect(drillVerdict(killed)).toBe(
      'Not verified: 2 of 3 connected SDK instances never had the kill within 30 s. The flag was NOT restored: the flag was killed for real during the drill (by Rita: P0 in checkout), so it stays killed.',
    );
    expect(say(drillVerdictWording(killed), zh)).toBe(
      '未验证：3 个已连接的 SDK 实例中有 2 个始终未收到紧急关闭（在 30 秒内）。该开关未被恢复：演练期间该开关被真正紧急关闭（Rita：P0 in checkout），因此保持关闭。',
    );
    const failed = drill({ confirmed: 0, ended: 'failed', restore: notRestored(restoreFailed('ECONNRESET', 'checkout', 'production')) });
    expect(drillVerdict(failed)).toBe(
      'Not verified: 3 of 3 connected SDK instances never had the kill (the drill could not read what the instances hold: unknown error). The flag was NOT restored: restoring failed (ECONNRESET); restore it by hand: rolloutctl restore checkout --env production.',
    );
    expect(say(restoreFailed('ECONNRESET', 'checkout', 'production'), zh)).toBe(
      '恢复失败（ECONNRESET）；请手动恢复：rolloutctl restore checkout --env production',
    );
  });
});

describe('audit chain wording', () => {
  const actor = { type: 'token', id: 't1', name: 'Ada' } as unknown as AuditEvent['actor'];
  const chain = (n: number): AuditEvent[] => {
    const out: AuditEvent[] = [];
    let head = { seq: 0, hash: GENESIS_HASH };
    for (let i = 0; i < n; i++) {
      const e = sealEvent({ actor, action: 'flag.put', target: { type: 'flag', id: `f${i}` }, before: null, after: {} }, head, '2026-03-02T12:00:00Z');
      out.push(e);
      head = { seq: e.seq, hash: e.hash };
    }
    return out;
  };
  const verify = (events: AuditEvent[], head: { seq: number; hash: string }) => {
    const v = new ChainVerifier();
    events.forEach((e, i) => v.check(i + 1, e));
    return v.finish(head);
  };

  it('says each problem as before, with its wording beside it, and in Chinese', () => {
    const events = chain(3);
    const head = { seq: 3, hash: events[2]!.hash };
    const altered = verify([events[0]!, { ...events[1]!, reason: 'edited' }, events[2]!], head);
    const missing = verify([events[0]!, events[2]!], head);
    const short = verify(events.slice(0, 2), head);
    const problems = [altered, missing, short].map((v) => (v.ok ? undefined : v));
    expect(problems.map((v) => v?.problem)).toEqual([
      'event 2 was altered (its hash does not match its content)',
      'event 2 is missing (found 3 at position 2)',
      'the log ends at event 2 but its head records event 3',
    ]);
    for (const v of problems) expect(say(v!.problemWording!)).toBe(v!.problem);
    expect(problems.map((v) => say(v!.problemWording!, zh))).toEqual([
      '事件 2 已被篡改（其哈希与内容不符）',
      '缺少事件 2（在位置 2 处找到的是 3）',
      '日志止于事件 2，但其头部记录的是事件 3',
    ]);
    expect(say(storeLostData('AOF truncated', 120, 80))).toBe(
      'the store lost data (AOF truncated): its audit log held at least 120 events and holds 80 now; restore a backup, or accept the loss (POST /api/admin/store/accept-loss)',
    );
  });
});
