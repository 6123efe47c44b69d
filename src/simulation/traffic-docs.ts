/** The prose of the real-traffic section of docs/simulation.md (traffic-report.ts puts the figures around it). */

export const TRAFFIC_MODEL: string[] = [
  '### How the traffic is drawn',
  '',
  'The coin-flip scenarios above treat every request as an independent trial. Real traffic is not like that: ' +
    'it comes from users, some of whom make far more requests than others, some of whom fail far more often, ' +
    'and a user stays in the cohort the hash put them in. This model draws traffic per user (src/simulation/population.ts, traffic.ts):',
  '',
  '- **Users.** N users (`users`), each with a request rate of their own, drawn from a log-normal (`sigma`) or a Pareto (`paretoAlpha`) ' +
    'and scaled so that they add up to `ratePerSecond`; an error propensity of their own, drawn from Beta(μκ, (1 − μ)κ) around the ' +
    "service's error rate μ (`errorRate`, κ = `errorConcentration`: the smaller, the more the errors bunch in a few users) and scaled so the " +
    "request-weighted mean is exactly μ; and a latency scale (their median is the scenario's × a log-normal factor, `latency.userSigma`).",
  "- **Bots and heavy clients** (`bots`) are users too, at `rateFactor` × the mean user's rate with an error rate of their own, on top of `ratePerSecond`.",
  "- **Segments** (`segments`) are named shares of users chosen by a stable hash of the user id and the segment's name " +
    '(murmurhash3, as the SDK hashes), optionally with a rate and an error factor of their own.',
  "- **Sticky assignment.** A release is a flag with a flexibleRollout strategy whose groupId is the flag's name; a user gets the flag at " +
    "percentage p exactly when the SDK would: `normalizedStrategyValue(userId, groupId) ≤ p` (unleash-client's own function, imported " +
    'from `unleash-client/lib/strategy/util.js`: murmurhash3 of `groupId:userId` % 100 + 1). Users in at 1 % stay in at 10 %, 50 % and 100 %.',
  "- **Per interval** (the policy's analysis interval), a user makes Poisson(rate × interval × daily factor) requests, each failing with " +
    'their propensity under the conditions of the moment. So that an interval is a few hundred draws rather than one per user, users ' +
    "are summed, once per rollout, into groups (hashed unit bucket × inside the regression's reach or not) cumulative in assignment " +
    "bucket: per cohort and group the interval's requests are Poisson(Σ rate × …) and its errors Binomial(requests, Σ rate × p / Σ rate). " +
    'A user keeps their rate and propensity from interval to interval, so a heavy or error-prone user weighs on their unit bucket, and ' +
    "on their cohort, in every interval: the between-bucket spread is theirs. Each cohort's latency histogram is drawn (multinomial over " +
    "the SDK helper's bounds) from its users' request-weighted mix of log-normals.",
  '- **Daily cycle** (`dailyCycle`): every rate × 1 + amplitude × cos(2π (hour − peakHour) / 24), hour in UTC; error propensities likewise ' +
    'with `errorAmplitude`.',
  "- **Shared incidents** (`incidents`): for a window timed from the rollout's start, every user's requests, in both cohorts, fail more " +
    '(`errorFactor`: p × f, at most 1; `extraErrorRate` x: 1 − (1 − p)(1 − x)) or are slower (`latencyFactor`).',
  "- **Regressions** (`regression`): the same effects on treatment only, on every treatment user or only on one segment's (`segment`), " +
    'from the start, from `after` the rollout started, or once the flag reaches `fromPercentage` %.',
  '- **What a judge gets**, per analysis, for the step so far and for the last interval (src/simulation/judges.ts `WindowTraffic`): ' +
    'the request totals, errors and latency histograms per cohort that `decide` takes today; per cohort the requests and errors in ' +
    "each of 64 unit buckets (a user's bucket is the controller's own, `bucketOf` in src/rollouts/unit-bucket.ts: the flag's assignment hash modulo 64); " +
    'evaluations on and off (one per request); and distinct users on and off (expected: Σ 1 − e^(−rate × exposure), over log-spaced rate classes).',
  '- **Judges.** A `Judge` turns measured traffic into what `decide` considers. `request-level` hands it the request totals; ' +
    '`user-level` adds the unit buckets (as the SDK helper reports them) and counts distinct users for the sample-ratio check.',
  "- **Not modelled:** sessions and bursts within a user's traffic (each user is a steady Poisson process), users arriving or leaving, " +
    'and retries. To judge a policy on traffic that really happened instead, replay the outcomes a store recorded (`--replay`, above).',
];

export const SCENARIO_FILE_REFERENCE: string[] = [
  '### The scenario file',
  '',
  '`npm run simulate -- --scenarios file.yaml [--rollouts N] [--compare-rollouts M] [--seed S] [--policy policies/standard.yaml] [--out path | --section docs/simulation.md]` ' +
    'runs the scenarios of a YAML file under the standard plan and the naive plan. Without `--out` or `--section` it prints the report; ' +
    '`--out path` writes path.md and path.json; `--section file.md` replaces this section of a document (how it got here). ' +
    '`--rollouts` defaults to 100 here; `--compare-rollouts M` runs the two comparison arms on the first M rollouts only (a long run). Without `--scenarios`, `npm run simulate` runs the coin-flip scenarios and writes docs/simulation.md ' +
    '(keeping this section as it is). A mistake in the file is reported with its path (`scenarios[3].regression.segment: no segment named …`). ' +
    'src/simulation/scenarios/real-traffic.yaml is a worked example. Each entry of `scenarios`:',
  '',
  '| field | default | meaning |',
  '| --- | --- | --- |',
  '| `name` | (required) | unique within the file |',
  '| `description` | | one line for the report |',
  '| `users` | 20000 | people using the service (at most 200,000) |',
  '| `ratePerSecond` | (required) | their requests per second, averaged over the day; bots come on top |',
  "| `errorRate` | 0.005 | the service's error rate: the request-weighted mean of users' propensities |",
  '| `rateDistribution` | lognormal | `lognormal` or `pareto`: how request rates spread over users |',
  '| `sigma` | 1 | log-normal: the standard deviation of log rate (1: the busiest 1 % make about 9 % of requests; 2: about 37 %) |',
  '| `paretoAlpha` | 1.5 | Pareto: its shape, above 1 (the smaller, the heavier the tail) |',
  '| `errorConcentration` | 20 | κ of the Beta the propensities are drawn from; large: everyone fails alike, small: a few users fail a lot |',
  "| `latency` | `{medianMs: 80, sigma: 0.6, userSigma: 0.3}` | per-request log-normal latency; users' medians spread by `userSigma` |",
  "| `bots` | [] | `{name?, count: 1, rateFactor, errorRate}`: clients at `rateFactor` × the mean user's rate |",
  '| `segments` | [] | `{name, fraction, rateFactor: 1, errorFactor: 1}`: a stable share of users |',
  '| `dailyCycle` | none | `{amplitude, peakHour: 15, errorAmplitude: 0}` |',
  "| `incidents` | [] | `{start, duration, errorFactor?, extraErrorRate?, latencyFactor?}`, times like `20m` from the rollout's start; both cohorts |",
  '| `regression` | none (healthy) | `{errorFactor?, extraErrorRate?, latencyFactor?, segment?, after?, fromPercentage?}`: treatment only |',
  '| `targets` | none | `{maxRolledBack?, minCompleted?, minStoppedBefore100?, minStoppedAtFirstStep?}`, shares of rollouts, checked per arm |',
  '',
];

export const READING: string[] = [
  'Why a request-level judge misjudges real traffic: it treats every request as an independent trial, and on real traffic they are not.',
  '',
  '1. **Sample ratio.** A traffic check on the share of *evaluations* that got the feature (what the controller judged before) is fooled by sticky assignment: ' +
    'that share is the share of requests made by the users the hash put in, which is off the percentage by however busy those users happen to be ' +
    '(each scenario below says how far, at 1 %); over a day\'s millions of evaluations any such gap is "significant", and the step would be held until its maximum duration paused it. ' +
    'So the controller judges the share of distinct users where applications report them (the `user-level` judge, with the error of its sample of users allowed for), ' +
    'and only shows the share of evaluations, unjudged, where they do not (stock SDKs: the `request-level` judge here).',
  "2. **Error comparison.** The bounds on treatment's error rate against control's assume independent requests. When errors bunch in a few users " +
    "(`errorConcentration`), or a bot or a heavy user lands in one cohort, which users the hash happened to pick moves a cohort's error rate by far more than those bounds allow: " +
    'healthy releases fail "beyond doubt" (so its catching every regression says little). The per-user variation shows between the unit buckets, which is what a unit-level judge uses.',
  '3. **Shared trouble.** Absolute gates and rollback rules look at treatment alone, so a shared incident (both cohorts failing alike) stops a healthy release.',
];
