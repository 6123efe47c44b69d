import { describe, expect, it } from 'vitest';
import { dingtalkMessage } from '../../src/notifications/formats/dingtalk.js';
import { emailMessage } from '../../src/notifications/formats/email.js';
import { summarize } from '../../src/notifications/message.js';
import { httpPlan } from '../../src/notifications/payloads.js';
import { putWebhookSchema } from '../../src/notifications/webhook-model.js';
import { ritasKill } from './sample-events.js';

/**
 * Notifications in Simplified Chinese for a webhook with `language: "zh-CN"`: the headline, the
 * facts' labels and words and the links' labels in Chinese; names, the reason a person typed and
 * the numbers as they are; English stays the default.
 */

describe('notification language', () => {
  const kill = ritasKill('checkout errors');

  it('zh-CN: Chinese headline, labels and words; flag, environment, person and reason as written', () => {
    const s = summarize(kill, 'zh-CN');
    expect(s.title).toBe('已紧急关闭：Rita 关闭了 production 中的 checkout');
    expect(s.facts).toEqual([
      { label: '开关', value: 'checkout' },
      { label: '环境', value: 'production' },
      { label: '紧急开关', value: '开（下发为停用）' },
      { label: '操作人', value: 'Rita' },
    ]);
    expect(s.links.map((l) => l.label)).toEqual(['在控制台中打开该开关', '在控制台中打开该发布']);
    expect(s.lines[0]).toBe('Reason: checkout errors');
  });

  it('English by default, unchanged', () => {
    expect(summarize(kill).title).toBe('KILLED: checkout in production was switched off by Rita');
    expect(summarize(kill, 'en')).toEqual(summarize(kill));
  });

  it('reaches the chat formats and the e-mail: a DingTalk body and an e-mail subject in Chinese', () => {
    const plan = httpPlan(
      { format: 'dingtalk', url: 'https://oapi.dingtalk.com/robot/send?access_token=x', secret: 'SEC0123456789abcdef', language: 'zh-CN' },
      kill,
      0,
    );
    expect(JSON.parse(plan.body).markdown.title).toContain('已紧急关闭');
    expect(dingtalkMessage(kill).markdown.title).toContain('KILLED');
    expect(emailMessage(kill, 'zh-CN').subject).toContain('已紧急关闭');
  });

  it('a webhook takes language en or zh-CN, and nothing else (the error names the field)', () => {
    expect(putWebhookSchema.parse({ format: 'json', url: 'https://example.com/h', language: 'zh-CN' }).language).toBe('zh-CN');
    const bad = putWebhookSchema.safeParse({ format: 'json', url: 'https://example.com/h', language: 'fr' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['language']);
  });
});
