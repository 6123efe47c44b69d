import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestController, uniquePrefix, type TestController } from '../support/controller.js';
import { firing, resolved } from './alertmanager-payloads.js';
import { auditEvents, declarePolicies, deliver, flag, ok, RESUMING, rolling, rolloutOf } from './alert-world.js';

const AM = '/api/alerts/alertmanager';

/**
 * Issue 16: Alertmanager in a cluster, or a retry racing the first delivery, sends the same alert
 * to two replicas of the controller at once: the alert is acted on once.
 */
describe('two replicas on one Redis receiving the same alert', () => {
  let a: TestController;
  let b: TestController;
  let token: string;

  beforeAll(async () => {
    const prefix = uniquePrefix('alert-replicas');
    a = await startTestController({ prefix });
    b = await startTestController({ prefix });
    await declarePolicies(a);
    token = (await ok(a, 'POST', '/api/admin/tokens', { kind: 'alert', environments: ['production'], name: 'alertmanager' })).secret;
    // Replica b learns of the token from the change feed.
    const probe = { flag: 'not-a-flag', environment: 'production', action: 'pause', reason: 'is the token known here yet?' };
    for (let i = 0; (await deliver(b, '/api/alerts/generic', probe, token)).status !== 200; i++) {
      if (i > 100) throw new Error('replica b never accepted the alert token');
      await new Promise((r) => setTimeout(r, 20));
    }
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('pauses each rollout once and answers the other delivery as a duplicate', async () => {
    const names = Array.from({ length: 8 }, (_, i) => `raced-${i}`);
    const ids = await Promise.all(names.map((name) => rolling(a, name, RESUMING)));
    const deliveries = names.map((name) => firing({ flag: name }, `fp-${name}`));
    const answers = await Promise.all(deliveries.flatMap((d) => [deliver(a, AM, d, token), deliver(b, AM, d, token)]));
    expect(answers.map((x) => x.status)).toEqual(answers.map(() => 200));
    for (let i = 0; i < names.length; i++) {
      const outcomes = [answers[2 * i]!, answers[2 * i + 1]!].map((x) => x.body.results[0].outcome).sort();
      expect(outcomes, names[i]).toEqual(['acted', 'duplicate']);
      const history = (await rolloutOf(a, ids[i]!)).history;
      expect(
        history.filter((h: any) => h.to === 'paused'),
        names[i],
      ).toHaveLength(1);
    }
    const audit = await auditEvents(a);
    expect(audit.filter((e) => e.action === 'alert.acted')).toHaveLength(names.length);
    expect(audit.filter((e) => e.action === 'rollout.pause')).toHaveLength(names.length);

    // The resolve, to both at once: resumed once.
    const resolves = await Promise.all(deliveries.flatMap((d) => [deliver(a, AM, resolved(d), token), deliver(b, AM, resolved(d), token)]));
    for (let i = 0; i < names.length; i++) {
      expect([resolves[2 * i]!, resolves[2 * i + 1]!].map((x) => x.body.results[0].outcome).sort(), names[i]).toEqual(['acted', 'duplicate']);
      const r = await rolloutOf(b, ids[i]!);
      expect(r.state).toBe('running');
      expect(r.history.filter((h: any) => h.from === 'paused' && h.to === 'running')).toHaveLength(1);
    }
    expect((await ok(a, 'GET', '/api/admin/audit/verify')).ok).toBe(true);
  });

  it('kills a flag once', async () => {
    await flag(a, 'raced-kill');
    const d = firing({ flag: 'raced-kill', action: 'kill' }, 'fp-raced-kill');
    const answers = await Promise.all([deliver(a, AM, d, token), deliver(b, AM, d, token)]);
    const outcomes = answers.map((x) => x.body.results[0].outcome);
    expect(outcomes).toContain('acted');
    expect(outcomes.filter((o) => o === 'acted')).toHaveLength(1);
    expect((await auditEvents(a)).filter((e) => e.action === 'flag.kill' && e.target.id === 'raced-kill')).toHaveLength(1);
  });
});
