import { h } from '../dom.js';
import { t } from '../i18n.js';
import { controllerReason, inPageLanguage } from '../lang.js';
import type { Rollout } from '../types.js';
import { dataTable } from '../widgets.js';
import { percentOf } from '../../../rollouts/units.js';
import type { Preflight } from '../../../rollouts/preflight.js';
import { baselineWording, minutesWording, perMinuteWording } from '../../../rollouts/preflight-wording.js';

/** The rollout page's pre-flight section, in the page's language: the controller's sentences carry their wording (rollouts/preflight-wording.ts). */

const LIMITED_BY = { traffic: 'traffic', minDuration: 'minimum duration', minSamples: 'minimum samples' } as const;

/** What the start was told about the flag's baseline and how long each step needs (kept on the rollout since its start). */
export function preflightSection(r: Rollout & { preflight?: Preflight }): HTMLElement | null {
  const p = r.preflight;
  if (!p) return null;
  const confidence = percentOf(p.detection.confidence);
  return h(
    'section',
    { 'aria-labelledby': 'preflight-title' },
    h('h2', { id: 'preflight-title' }, t('Pre-flight')),
    h('p', {}, h('strong', {}, t('Baseline at the start: ')), inPageLanguage(baselineWording(p.baseline))),
    p.warnings?.length
      ? h(
          'ul',
          { class: 'preflight-warnings', 'aria-label': t('Started with force over') },
          p.warnings.map((w, i) =>
            h('li', { class: 'verdict-failing' }, t('Started with force: '), controllerReason({ reason: w, reasonWording: p.warningWordings?.[i] })),
          ),
        )
      : null,
    dataTable({
      cls: 'preflight stack',
      caption: t('Per step, at the traffic of the start: time to detect a doubling of the error rate at {confidence} confidence', { confidence }),
      columns: [t('Step'), t('Requests'), t('To detect a doubling'), t('Step lasts at least'), t('Limited by')],
      rowHeaders: true,
      rows: p.steps.map((s) => ({
        cells: [
          `${s.percentage}%`,
          inPageLanguage(perMinuteWording(s.requestsPerMinute)),
          s.minutesToDetectDoubling === null
            ? s.reason
              ? controllerReason({ reason: s.reason, reasonWording: s.reasonWording })
              : t('no estimate')
            : inPageLanguage(minutesWording(s.minutesToDetectDoubling)),
          s.minutesNeeded === null ? t('waits for traffic') : inPageLanguage(minutesWording(s.minutesNeeded)),
          [t(LIMITED_BY[s.limitedBy]), s.beyondMaxDuration ? h('span', { class: 'muted' }, t(' (longer than the step may last)')) : null],
        ],
      })),
    }),
    p.notes.length
      ? h(
          'ul',
          { class: 'muted' },
          p.notes.map((n, i) => h('li', {}, controllerReason({ reason: n, reasonWording: p.noteWordings?.[i] }))),
        )
      : null,
  );
}
