import { stateWords, type GoLiveReport } from './go-live-report.js';
import { counted, type ShownVerdict } from '../rollouts/units.js';
import { reportWords, unitsIn, type Words } from './report-language.js';

/** Formatting both renderers share, so the Markdown and the HTML report state values identically. */

/** "2026-03-02 14:05:09 UTC": a change board reads times, not ISO strings. */
export function formatTime(iso: string | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** A check's value or threshold with its unit (error rates as percentages, latencies in ms, evaluations counted). */
export { metricText as formatValue, samplesText as formatCheckSamples } from '../rollouts/units.js';

export function formatSamples(samples: { treatment: number; control: number } | undefined, w: Words = reportWords()): string {
  return samples
    ? w('treatment {treatment}, control {control}', {
        treatment: unitsIn(w, counted(samples.treatment, 'request')),
        control: unitsIn(w, counted(samples.control, 'request')),
      })
    : '';
}

/** A verdict's word (PASS, FAIL …) in the report's language. */
export function verdictWord(v: ShownVerdict, w: Words): string {
  return w(VERDICT_WORDS[v]);
}

export const VERDICT_WORDS: Record<ShownVerdict, string> = { pass: 'PASS', fail: 'FAIL', inconclusive: 'INCONCLUSIVE', 'not-judged': 'NOT JUDGED' };

/** The plan's steps with the current one marked, e.g. 1% → [10%] → 50% → 100%. */
export function stepsLine(steps: number[], current: number, mark: (text: string) => string): string {
  return steps.map((p) => (p === current ? mark(`${p}%`) : `${p}%`)).join(' → ');
}

/** How a renderer marks up the bits of text shared rows are built from. */
export interface Markup {
  text(s: string): string;
  code(s: string): string;
  strong(s: string): string;
  current(s: string): string;
}

/** The summary table's rows, in both renderers' own markup. */
export function summaryRows(s: GoLiveReport['summary'], m: Markup, w: Words = reportWords()): Array<[string, string]> {
  const rows: Array<[string, string]> = [
    ['Rollout', m.code(s.id)],
    ...(s.release
      ? ([
          ['Release', m.code(s.release.name)],
          ['Flags (one cohort, one kill)', s.release.flags.map(m.code).join(', ')],
        ] as Array<[string, string]>)
      : ([['Flag', m.code(s.flag)]] as Array<[string, string]>)),
    ['Environment', m.code(s.environment)],
    ['Policy', `${m.code(s.policy)}${s.policyDescription ? ` (${m.text(s.policyDescription)})` : ''}`],
    ['Started by', m.text(s.startedBy)],
    ['Started', m.text(formatTime(s.startedAt))],
    ['Ended', s.endedAt ? m.text(formatTime(s.endedAt)) : w('not yet')],
    ['Duration', m.text(s.duration)],
    ['Steps', stepsLine(s.steps, s.percentage, m.current)],
    ['State', m.strong(m.text(w(stateWords(s.state))))],
  ];
  return rows.map(([label, value]) => [w(label), value]);
}
