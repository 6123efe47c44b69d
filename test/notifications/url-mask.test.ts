import { describe, expect, it } from 'vitest';
import { maskUrl, redactUrl } from '../../src/notifications/url-mask.js';

/** Where a webhook goes, shown without the part of its URL that is a credential. */
describe('webhook URLs shown without their keys', () => {
  it.each([
    ['https://oapi.dingtalk.com/robot/send?access_token=3f1c0a9e77b24b0c8f6d', 'https://oapi.dingtalk.com/robot/send?access_token=3f1c…'],
    ['https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0', 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a…'],
    ['https://open.feishu.cn/open-apis/bot/v2/hook/f19d0c8e-1b2a-4c3d-9e8f', 'https://open.feishu.cn/open-apis/bot/v2/hook/f19d…'],
    ['https://hooks.slack.com/services/T0000000/B0000000/XXXXXXXXXXXXXXXXXXXXXXXX', 'https://hooks.slack.com/services/T0000000/B0000000/XXXX…'],
    [
      'https://prod-00.westus.logic.azure.com:443/workflows/0123456789abcdef0123/triggers/manual/paths/invoke?api-version=2016-06-01&sig=AbCdEfGhIjKlMnOp',
      'https://prod-00.westus.logic.azure.com/workflows/0123…/triggers/manual/paths/invoke?api-version=2016…&sig=AbCd…',
    ],
    ['https://user:password@hooks.example.com/x', 'https://…@hooks.example.com/x'],
    ['https://hooks.example.com/…', 'https://hooks.example.com/…'],
    ['not a url', '…'],
  ])('%s → %s', (url, shown) => expect(maskUrl(url)).toBe(shown));

  it('for readers: the origin only', () => {
    expect(redactUrl('https://oapi.dingtalk.com/robot/send?access_token=3f1c')).toBe('https://oapi.dingtalk.com/…');
    expect(redactUrl('https://hooks.example.com/')).toBe('https://hooks.example.com');
  });
});
