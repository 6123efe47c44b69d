import { describe, expect, it } from 'vitest';
import { ChainVerifier, GENESIS_HASH, canonicalJson, sealEvent, type AuditEvent, type AuditHead } from '../../src/audit/chain.js';

function chain(n: number): { events: AuditEvent[]; head: AuditHead } {
  let head: AuditHead = { seq: 0, hash: GENESIS_HASH };
  const events: AuditEvent[] = [];
  for (let i = 0; i < n; i++) {
    const event = sealEvent(
      { actor: { type: 'system', id: 's', name: 's' }, action: 'x', target: { type: 'flag', id: `f${i}` }, before: null, after: { i } },
      head,
      '2026-01-01T00:00:00.000Z',
    );
    events.push(event);
    head = { seq: event.seq, hash: event.hash };
  }
  return { events, head };
}

function verify(events: AuditEvent[], head: AuditHead) {
  const v = new ChainVerifier();
  for (const e of events) v.check(e.seq, e);
  return v.finish(head);
}

describe('audit hash chain', () => {
  it('accepts an intact chain and an empty one', () => {
    const { events, head } = chain(5);
    expect(verify(events, head)).toEqual({ ok: true, count: 5, headSeq: 5 });
    expect(verify([], { seq: 0, hash: GENESIS_HASH }).ok).toBe(true);
  });

  it('finds an edited event, even when its own hash was recomputed', () => {
    const { events, head } = chain(5);
    const edited = events.map((e) => (e.seq === 3 ? { ...e, reason: 'sneaky' } : e));
    expect(verify(edited, head)).toMatchObject({ ok: false, brokenAtSeq: 3 });
    const resealed = [...events];
    const { hash: _h, ...rest } = events[2]!;
    resealed[2] = sealEvent({ ...rest, reason: 'sneaky' }, { seq: 2, hash: events[1]!.hash }, rest.at);
    expect(verify(resealed, head)).toMatchObject({ ok: false, brokenAtSeq: 4 });
  });

  it('finds a removed event and a truncated tail', () => {
    const { events, head } = chain(5);
    expect(
      verify(
        events.filter((e) => e.seq !== 2),
        head,
      ),
    ).toMatchObject({ ok: false, brokenAtSeq: 2 });
    expect(verify(events.slice(0, 4), head)).toMatchObject({ ok: false, brokenAtSeq: 5 });
  });

  it('hashes independently of key order', () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: [1, { f: 1, e: 2 }] } })).toBe('{"a":{"c":[1,{"e":2,"f":1}],"d":2},"b":1}');
  });
});
