import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openStore, type Store } from '../../src/store/index.js';
import { createLogger } from '../../src/logger.js';
import { decide } from '../../src/rollouts/decide.js';
import { NotificationDispatcher, type DispatcherOptions } from '../../src/notifications/dispatcher.js';
import { deriveEvents } from '../../src/notifications/events.js';
import { DELIVERIES, jobId, Outbox, OUTBOX, type DeliveryJob } from '../../src/notifications/outbox.js';
import { WebhookService } from '../../src/notifications/webhook-service.js';
import { uniquePrefix } from '../support/controller.js';
import { pollUntil } from '../rollouts/scenario-helpers.js';
import { at, bob, expectDecided, MINUTE, rollout } from '../unit/decide-fixtures.js';
import { startReceiver, type Receiver } from './receiver.js';

/**
 * The outbox on the real test Redis, with dispatchers standing in for replicas: claims keep a job
 * to one deliverer, a claim left by a dead one is taken over when it runs out, and a full outbox
 * refuses new jobs instead of growing.
 */

const ADMIN = { type: 'token', id: 'test-admin', name: 'test admin' } as const;

/** A rollout paused by Bob: one rollout.paused event, its id fixed by the rollout's id. */
function pauseChange(rolloutId: string) {
  const before = rollout({ id: rolloutId });
  const after = expectDecided(decide(before, { kind: 'pause', by: bob }, at(MINUTE))).next;
  return { before, after, action: 'rollout.pause', actor: ADMIN };
}

describe('webhook outbox on Redis', () => {
  let store: Store;
  let receiver: Receiver;
  const dispatchers: NotificationDispatcher[] = [];
  const clock = { offsetMs: 0, now: () => new Date(Date.now() + clock.offsetMs) };

  const dispatcher = (replicaId: string, overrides: Partial<DispatcherOptions> = {}) => {
    const d = new NotificationDispatcher(store, createLogger('silent'), {
      replicaId,
      now: clock.now,
      random: Math.random,
      retry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 100 },
      attemptTimeoutMs: 2_000,
      pollMs: 20,
      concurrency: 3,
      maxPending: 1_000,
      keepPerWebhook: 100,
      userAgent: 'outbox-test',
      allowPrivateNetworks: true, // the receiver listens on 127.0.0.1
      ...overrides,
    });
    dispatchers.push(d);
    return d;
  };

  beforeAll(async () => {
    store = await openStore({ redisUrl: inject('redisUrl'), prefix: uniquePrefix('outbox'), dataDir: '' });
    receiver = await startReceiver(() => 200);
    await new WebhookService(store, () => new Date(), { allowPrivateNetworks: true, emailConfigured: false }).put(
      'all',
      { url: `${receiver.url}/all`, format: 'json' },
      ADMIN,
    );
  });

  afterAll(async () => {
    await Promise.all(dispatchers.map((d) => d.stop()));
    await receiver?.close();
    await store?.close();
  });

  it('two replicas polling one outbox deliver each event exactly once', async () => {
    const a = dispatcher('replica-a');
    const b = dispatcher('replica-b');
    a.start();
    b.start();
    const changes = Array.from({ length: 16 }, (_, i) => pauseChange(`twin-${i}`));
    // Half the changes are made on each replica; either may deliver any job.
    changes.forEach((c, i) => (i % 2 ? a : b).onRolloutChange(c));
    const ids = changes.map((c) => deriveEvents(c.before, c.after)[0]!.id);
    await receiver.waitFor((got) => ids.every((id) => got.some((r) => r.headers['x-rollout-event-id'] === id)), 'every event');
    const jobs = await pollUntil(
      () => a.deliveriesOf('all'),
      (js) => ids.every((id) => js.find((j) => j.event.id === id)?.status === 'delivered'),
      'every job recorded delivered',
    );

    const deliveredIds = receiver.received.map((r) => r.headers['x-rollout-event-id']).filter((id) => ids.includes(id as string));
    expect(deliveredIds.sort()).toEqual([...ids].sort());
    for (const id of ids) expect(jobs.find((j) => j.event.id === id)).toMatchObject({ started: 1, attempts: [{ attempt: 1, status: 200 }] });
    await Promise.all([a.stop(), b.stop()]);
  });

  it('takes over a job whose deliverer died once its claim runs out, and not before', async () => {
    const outbox = new Outbox(store);
    const orphan = pauseChange('orphaned');
    const event = deriveEvents(orphan.before, orphan.after)[0]!;
    const now = clock.now();
    // Attempt 1 was claimed by a replica that then died: its claim holds for another minute.
    const job: DeliveryJob = {
      id: jobId(event.id, 'all'),
      webhookId: 'all',
      event,
      status: 'pending',
      started: 1,
      attempts: [],
      nextAttemptAt: now.toISOString(),
      claim: { by: 'dead-replica', until: new Date(now.getTime() + 60_000).toISOString() },
      createdAt: now.toISOString(),
    };
    await outbox.add([job]);
    const live = dispatcher('replica-c');
    live.start();

    // A job queued after it is delivered while the claimed one is left alone.
    const later = pauseChange('after-the-orphan');
    live.onRolloutChange(later);
    const laterId = deriveEvents(later.before, later.after)[0]!.id;
    await receiver.waitFor((got) => got.some((r) => r.headers['x-rollout-event-id'] === laterId), 'the later event');
    expect(receiver.received.some((r) => r.headers['x-rollout-event-id'] === event.id)).toBe(false);

    // Once the claim has run out, the job is delivered, counted as the second attempt.
    clock.offsetMs += 61_000;
    live.wake();
    const [delivery] = (await receiver.waitFor((got) => got.some((r) => r.headers['x-rollout-event-id'] === event.id), 'the orphaned event')).filter(
      (r) => r.headers['x-rollout-event-id'] === event.id,
    );
    expect(delivery!.headers['x-rollout-delivery-attempt']).toBe('2');
    // Finished, it has left the outbox for the delivery record.
    const recorded = await pollUntil(
      () => store.get<DeliveryJob>(DELIVERIES, job.id),
      (d) => d?.value.status === 'delivered',
      'the takeover recorded',
    );
    expect(await store.get(OUTBOX, job.id)).toBeNull();
    expect(recorded!.value).toMatchObject({ started: 2, attempts: [{ attempt: 2, status: 200, replica: 'replica-c' }] });
    expect(recorded!.value.claim).toBeUndefined();
    await live.stop();
  });

  it('keeps only the newest finished deliveries per webhook, and drops the jobs of a deleted webhook', async () => {
    const finished = async () => (await store.list<DeliveryJob>(DELIVERIES)).map((d) => d.value);
    const before = (await finished()).filter((j) => j.webhookId === 'all').sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
    expect(before.length).toBeGreaterThan(3);
    const pruner = dispatcher('replica-pruner', { keepPerWebhook: 3 });
    pruner.start();
    const kept = await pollUntil(finished, (jobs) => jobs.length <= 3, 'pruned to three');
    expect(kept.map((j) => j.createdAt).sort()).toEqual(
      before
        .slice(0, 3)
        .map((j) => j.createdAt)
        .sort(),
    );

    // A webhook deleted with a job still pending: the job goes rather than waiting for a receiver nobody wants.
    const webhooks = new WebhookService(store, () => new Date(), { allowPrivateNetworks: true, emailConfigured: false });
    await webhooks.put('short-lived', { url: `${receiver.url}/short-lived`, format: 'json' }, ADMIN);
    await pruner.stop();
    const change = pauseChange('for-a-deleted-webhook');
    const queuer = dispatcher('replica-queuer');
    queuer.onRolloutChange(change);
    await queuer.stop();
    const id = jobId(deriveEvents(change.before, change.after)[0]!.id, 'short-lived');
    expect(await store.get(OUTBOX, id)).not.toBeNull();
    await webhooks.delete('short-lived', ADMIN);
    const cleaner = dispatcher('replica-cleaner');
    cleaner.start();
    await pollUntil(
      () => store.get(OUTBOX, id),
      (doc) => doc === null,
      'the orphaned job dropped',
    );
    expect(receiver.received.some((r) => r.path === '/short-lived')).toBe(false);
    await cleaner.stop();
  });

  it('refuses new jobs while the outbox is full instead of growing without bound', async () => {
    const full = dispatcher('replica-full', { maxPending: 0 });
    const change = pauseChange('no-room');
    full.onRolloutChange(change);
    await full.stop(); // waits for the queuing to finish
    const id = deriveEvents(change.before, change.after)[0]!.id;
    expect((await store.list<DeliveryJob>(OUTBOX)).some((d) => d.value.event.id === id)).toBe(false);
    // The same change on a dispatcher with room is queued (so it was the limit that refused it).
    const roomy = dispatcher('replica-roomy');
    roomy.onRolloutChange(change);
    await roomy.stop();
    expect((await store.list<DeliveryJob>(OUTBOX)).some((d) => d.value.event.id === id)).toBe(true);
  });
});
