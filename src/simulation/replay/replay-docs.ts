import { DEFAULT_REPLAY_LIMIT, MAX_REPLAY_LIMIT } from './replay-run.js';

/**
 * How to run `npm run simulate -- --replay`, as docs/simulation.md says it: the coin-flip report
 * (report.ts) writes this section, so the document and the code say the same.
 */
export const REPLAY_GUIDE: string[] = [
  '## Replaying recorded rollouts',
  '',
  '`npm run simulate -- --replay` asks what a policy would have done with the releases a controller really ran. It reads, read-only, ' +
    "the rollouts kept in the controller's store and the outcome buckets still there for their flags, and replays each rollout's own " +
    'timeline through the decision core under the policy: when it would have advanced, held, paused or rolled back, and which check decided.',
  '',
  '```sh',
  "# The store is the controller's, named as the controller names it (and OUTCOME_BUCKET_MS as it has it):",
  'REDIS_URL=redis://redis:6379 REDIS_PREFIX=rollout npm run simulate -- --replay --policy candidate-plan.yaml --since 7d',
  '# The embedded store, beside the controller that runs on it; the report in replay.md and replay.json:',
  'DATA_DIR=/var/lib/rollout-controller npm run simulate -- --replay --flag checkout-v2 --out replay',
  '```',
  '',
  '| option | meaning |',
  '| --- | --- |',
  "| `--policy FILE\\|NAME` | a policy file, or the policy stored under that name; without it, each rollout's own plan (the policy it ran under, as it was when it started), which replays what happened |",
  '| `--flag F`, `--environment E` | only the rollouts of this flag, in this environment |',
  '| `--since WHEN` | only rollouts started since a date (`2030-01-07`), a time (`2030-01-07T09:00:00Z`) or a duration back from now (`7d`, `12h`) |',
  `| \`--limit N\` | the N most recent rollouts (default ${DEFAULT_REPLAY_LIMIT}, at most ${MAX_REPLAY_LIMIT}) |`,
  '| `--out PATH` | write PATH.md and PATH.json; without it the report goes to stdout |',
  '',
  'The exit code is 0 when at least one rollout was replayed, 1 when none could be (or an option is wrong; the message names it).',
  '',
  '**How a rollout is replayed.** It starts again when the real one started. The clock steps at the policy’s analysis interval; every ' +
    'analysis reads the recorded buckets with the leader’s own code (src/rollouts/measure.ts: the step since it began, the last interval for ' +
    'rollback rules, the exposures for traffic checks), but only the buckets that had ended by then: the controller also read part of the ' +
    'bucket in progress, the replay never reads what came later. People do again what they did, when they did it: an approval counts once ' +
    'the replayed rollout awaits its percentage (the policy’s roles and the rule that the starter cannot approve still apply; an approval it ' +
    'refuses is listed); pauses, resumes, rejections and aborts happen at their own time. A pause the controller made (a step past its ' +
    'maximum duration) is the policy’s own doing, not replayed. The replay runs to the end of the real rollout (for an active one, now; after ' +
    'a real completion, for the replayed policy’s `watchAfterCompletion` too, since the flag went on serving everyone).',
  '',
  '**Where a replay stops.** The recorded outcomes are those of the users the flag really served. While the policy serves what the flag ' +
    'served, they are what it would have seen. When it would have served another percentage (advanced sooner or later, held where the real ' +
    'rollout went on, or kept serving a flag that was killed), other users would have been in treatment: with the user as the unit, scaling ' +
    'treatment’s counts would invent users nobody observed. So the replay of that rollout stops where the two part, says at which percentage ' +
    'each was and why the policy was where it was. A difference shorter than an analysis interval (the longer of the two policies’) and one ' +
    'outcome bucket is not a divergence: the two clocks tick on grids of their own, and the replay reads a bucket only once it has ended.',
  '',
  '**The report** (markdown, like this one): a summary line per rollout, then per rollout what really happened and what the policy would ' +
    'have done (how it ended, when, and why: the deciding check, judged on users or on requests), and both timelines side by side.',
  '',
  '**Read-only.** Redis is only read (GET, HGET, HMGET, HGETALL), so a replay may run against a live deployment or a replica. The embedded ' +
    'store’s files are read without taking its lock and nothing is written, so it may run beside the controller that owns the directory; it ' +
    'sees the counters as of the controller’s last flush (about a second old).',
  '',
  '**Limits.** A rollout is not replayed (the report says why) when:',
  '',
  '- buckets of its span have expired: outcomes and exposures are kept two days after their last write, so a rollout that started more than ' +
    'two days ago is refused, with the windows that are missing;',
  '- the store holds fewer requests for one of its steps than the rollout itself counted (a transition’s `samples`): buckets are missing, ' +
    'read under another OUTCOME_BUCKET_MS, prefix or data directory, or lost;',
  '- the policy has PromQL checks: Prometheus’ answers are not in the store.',
  '',
  `At most ${MAX_REPLAY_LIMIT} rollouts a run. A rollout's buckets (at most two days' worth: 17,280 at the default 10 s, and 2,880 minutes ` +
    'of exposures for policies with traffic checks) are read once, one read each, and held in memory while it is replayed.',
];
