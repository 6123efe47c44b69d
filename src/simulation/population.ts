import { betaAround, lognormalMeanOne, paretoMeanOne } from './distributions.js';
import { assignmentBucket, stableFraction, unitBucketOf } from './hashing.js';
import type { Random } from './random.js';
import type { TrafficScenario } from './traffic-scenario.js';

/**
 * The users of a simulated service: each with a request rate of their own (heavy-tailed), an
 * error propensity of their own (Beta around the service's error rate), a latency scale, a unit
 * bucket and segment memberships by stable hashes; bots at the end of the list. A user's traffic
 * is a Poisson process at their rate (× the daily cycle); each request fails with their
 * propensity (× whatever regression or incident is on) independently of the others.
 */
export interface Population {
  size: number;
  /** User ids: "user-0" … then "bot-0" …; the SDK hashes these. */
  ids: string[];
  /** Requests per second at the daily mean. */
  rate: Float64Array;
  /** Probability that one of the user's requests fails, before any regression or incident. */
  propensity: Float64Array;
  /** The user's latency median as a multiple of the scenario's. */
  latencyScale: Float64Array;
  /** 1 where the scenario's regression reaches the user (its segment, or everyone without one). */
  inScope: Uint8Array;
  /** Per segment name, 1 for its members. */
  segments: Map<string, Uint8Array>;
  /** The last `bots` users are the scenario's bots. */
  bots: number;
}

/** What depends only on the user ids (hashes): computed once per scenario, shared by its rollouts. */
export interface PopulationFrame {
  ids: string[];
  segments: Map<string, Uint8Array>;
}

export function populationFrame(scenario: TrafficScenario): PopulationFrame {
  const ids: string[] = [];
  for (let i = 0; i < scenario.users; i++) ids.push(`user-${i}`);
  let b = 0;
  for (const bot of scenario.bots) for (let j = 0; j < bot.count; j++) ids.push(`bot-${b++}`);
  const segments = new Map<string, Uint8Array>();
  for (const segment of scenario.segments) {
    const member = new Uint8Array(ids.length);
    ids.forEach((id, i) => {
      member[i] = stableFraction(id, segment.name) < segment.fraction ? 1 : 0;
    });
    segments.set(segment.name, member);
  }
  return { ids, segments };
}

/** Draws a population for the scenario: the same seed, the same users. */
export function drawPopulation(scenario: TrafficScenario, random: Random, frame: PopulationFrame = populationFrame(scenario)): Population {
  const size = frame.ids.length;
  const humans = scenario.users;
  const rate = new Float64Array(size);
  const propensity = new Float64Array(size);
  const latencyScale = new Float64Array(size);
  const segmentFactor = (i: number, key: 'rateFactor' | 'errorFactor') => {
    let f = 1;
    for (const segment of scenario.segments) if (frame.segments.get(segment.name)![i]) f *= segment[key];
    return f;
  };

  let rateSum = 0;
  for (let i = 0; i < humans; i++) {
    const r = scenario.rateDistribution === 'pareto' ? paretoMeanOne(random, scenario.paretoAlpha) : lognormalMeanOne(random, scenario.sigma);
    rate[i] = r * segmentFactor(i, 'rateFactor');
    rateSum += rate[i]!;
  }
  const rateScale = scenario.ratePerSecond / rateSum;
  for (let i = 0; i < humans; i++) rate[i]! *= rateScale;

  // Propensities around the error rate, then scaled so the request-weighted mean is exactly it:
  // which users happen to be heavy must not change the service's error rate.
  let weighted = 0;
  for (let i = 0; i < humans; i++) {
    propensity[i] = betaAround(random, scenario.errorRate, scenario.errorConcentration);
    weighted += rate[i]! * propensity[i]!;
  }
  const errorScale = weighted > 0 ? (scenario.errorRate * scenario.ratePerSecond) / weighted : 0;
  for (let i = 0; i < humans; i++) propensity[i] = Math.min(1, propensity[i]! * errorScale * segmentFactor(i, 'errorFactor'));

  for (let i = 0; i < humans; i++) latencyScale[i] = Math.exp(scenario.latency.userSigma * random.normal());

  let i = humans;
  const meanRate = scenario.ratePerSecond / humans;
  for (const bot of scenario.bots) {
    for (let j = 0; j < bot.count; j++, i++) {
      rate[i] = bot.rateFactor * meanRate;
      propensity[i] = Math.min(1, bot.errorRate * segmentFactor(i, 'errorFactor'));
      latencyScale[i] = 1;
    }
  }

  const scope = scenario.regression?.segment;
  const inScope = scope === undefined ? new Uint8Array(size).fill(1) : frame.segments.get(scope)!;
  return { size, ids: frame.ids, rate, propensity, latencyScale, inScope, segments: frame.segments, bots: size - humans };
}

/** Every user's assignment bucket (0…99) on a flag's flexibleRollout strategy with this groupId (the flag's name). */
/**
 * Where a flag puts each user: the position its flexibleRollout compares with the percentage
 * (the array itself, 0…99) and, in `units`, the hashed user bucket the user's outcomes count in.
 * Both depend on the flag (its groupId), as they do in the SDK and the controller.
 */
export type Assignment = Uint8Array & { units: Uint8Array };

export function assignUsers(population: Population, groupId: string): Assignment {
  const positions = new Uint8Array(population.size);
  const units = new Uint8Array(population.size);
  population.ids.forEach((id, i) => {
    positions[i] = assignmentBucket(id, groupId);
    units[i] = unitBucketOf(id, groupId);
  });
  return Object.assign(positions, { units });
}

const HOUR = 3_600_000;

/** The daily cycle's factor at a time (UTC): 1 + amplitude × cos(2π (hour − peakHour) / 24); 1 without a cycle. */
export function dailyFactor(scenario: TrafficScenario, at: number, which: 'rate' | 'errors' = 'rate'): number {
  const cycle = scenario.dailyCycle;
  if (!cycle) return 1;
  const amplitude = which === 'rate' ? cycle.amplitude : cycle.errorAmplitude;
  const hour = (at / HOUR) % 24;
  return 1 + amplitude * Math.cos((2 * Math.PI * (hour - cycle.peakHour)) / 24);
}

/** Share of all requests made by the busiest `top` share of users (0.01: the top 1 %). */
export function topShare(population: Population, top: number): number {
  const sorted = [...population.rate].sort((a, b) => b - a);
  const n = Math.max(1, Math.round(top * sorted.length));
  let total = 0;
  let head = 0;
  sorted.forEach((r, i) => {
    total += r;
    if (i < n) head += r;
  });
  return head / total;
}
