import { SdkFetchRecorder } from '../src/serving/sdk-fetches.js';

/**
 * What the holdings records (src/serving/sdk-holdings.ts: which SDK instance holds which flag
 * state, for propagation and drills) add to the serving path: the fetch recorder's per-request
 * work (instanceOf + note, and its flush once a simulated second) with them and without them, on
 * a store that writes nothing, so only the controller's CPU is measured. The best of 7 rounds.
 *
 *   npx tsx bench/holdings-cost.ts
 */

const store = { incrementCounters: async () => {}, sumCounters: async () => [] } as never;
const logger = { warn() {}, info() {}, error() {} } as never;

function headersFor(i: number) {
  return {
    'unleash-appname': `app-${i % 50}`,
    'unleash-instanceid': `host-${i}`,
    'unleash-connection-id': `6f1b3a0e-3f5e-4d6a-9b1c-${String(i).padStart(12, '0')}`,
  };
}

async function nsPerRequest(withHoldings: boolean, instances: number, requests: number, changeEvery: number): Promise<number> {
  let t = 1_800_000_000_000;
  const recorder = new SdkFetchRecorder(store, () => t, logger, 3_600_000);
  if (!withHoldings) (recorder as unknown as { holdings: { saw(): void } }).holdings.saw = () => {};
  const headers = Array.from({ length: instances }, (_, i) => headersFor(i));
  for (let i = 0; i < 100_000; i++) recorder.note('production', recorder.instanceOf(headers[i % instances]!), 1);
  await recorder.flush();
  let revision = 1;
  const start = process.hrtime.bigint();
  for (let i = 0; i < requests; i++) {
    t += 1; // a request a millisecond
    if (i % changeEvery === 0) revision++;
    recorder.note('production', recorder.instanceOf(headers[i % instances]!), revision);
    if (i % 1000 === 999) await recorder.flush(); // once a second, as its timer does
  }
  const ns = Number(process.hrtime.bigint() - start) / requests;
  await recorder.close();
  return ns;
}

const scenarios: Array<[string, number, number]> = [
  ['one instance polling (the bench’s features poll), no change', 1, Number.MAX_SAFE_INTEGER],
  ['10,000 instances polling (each every 10 s), no change', 10_000, Number.MAX_SAFE_INTEGER],
  ['10,000 instances polling, a change every 10 s (each poll gets a new revision)', 10_000, 10_000],
];
for (const [label, instances, changeEvery] of scenarios) {
  let with_ = Infinity;
  let without = Infinity;
  for (let round = 0; round < 7; round++) {
    without = Math.min(without, await nsPerRequest(false, instances, 1_000_000, changeEvery));
    with_ = Math.min(with_, await nsPerRequest(true, instances, 1_000_000, changeEvery));
  }
  console.log(
    `${label}: ${without.toFixed(0)} ns a request without the holdings records, ${with_.toFixed(0)} ns with them (+${(with_ - without).toFixed(0)} ns)`,
  );
}
