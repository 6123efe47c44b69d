import { z } from 'zod';
import { defineRoute, type RouteSpec } from '../http/route.js';
import type { Store } from '../store/port.js';
import type { RolloutService } from '../rollouts/rollout-service.js';
import { buildGoLiveReport } from './go-live-report.js';
import { killSwitchesOf } from '../rollouts/rollout-views.js';
import { auditEventsFor } from './rollout-audit.js';
import { renderHtml } from './render-html.js';
import { renderMarkdown } from './render-markdown.js';
import { REPORT_LANGUAGES, reportWords } from './report-language.js';

export const REPORT_FORMATS = {
  md: { contentType: 'text/markdown; charset=utf-8', render: renderMarkdown },
  html: { contentType: 'text/html; charset=utf-8', render: renderHtml },
} as const;
export type ReportFormat = keyof typeof REPORT_FORMATS;

/** go-live-<flag>-<env>-<first 8 of id>.md: names and ids are restricted to filename-safe characters. */
export function reportFilename(r: { flag: string; environment: string; id: string }, format: ReportFormat): string {
  return `go-live-${r.flag}-${r.environment}-${r.id.slice(0, 8)}.${format}`.replace(/[^A-Za-z0-9_.~-]/g, '_');
}

export function reportRoutes(deps: { rollouts: RolloutService; store: Store; now: () => Date }): RouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/admin/rollouts/{id}/report',
      summary:
        'Go-live report of one rollout, for a change board to file: summary, timeline, ' +
        'each step’s gate values, thresholds, sample sizes and verdicts, approvals, outcome, the breach behind a rollback, and its audit events. ' +
        'Sent as a download (Content-Disposition). `lang=zh-CN` writes headings, labels, states, verdicts and units in Simplified Chinese; ' +
        'the controller’s own reasons and outcomes are said in Chinese too (names, rules and comments within them as written); ' +
        'other free text (comments, reasons recorded before reasons were worded) stays as the controller and people wrote it.',
      tag: 'Rollouts',
      auth: { kind: 'admin', permission: 'read' },
      params: z.object({ id: z.string().min(1).max(100) }),
      query: z.object({ format: z.enum(['md', 'html']).default('md'), lang: z.enum(REPORT_LANGUAGES).default('en') }),
      responses: {
        200: { description: 'The report (Markdown or a self-contained HTML page)', schema: z.string(), contentType: 'text/markdown' },
        404: { description: 'No such rollout' },
      },
      handler: async ({ params, query, res }) => {
        const rollout = await deps.rollouts.get(params.id);
        const [killSwitch] = await killSwitchesOf(deps.store, [rollout]);
        const words = reportWords(query.lang);
        const report = buildGoLiveReport(rollout, await auditEventsFor(deps.store, rollout), deps.now(), killSwitch, words);
        const format = REPORT_FORMATS[query.format];
        res
          .status(200)
          .set({
            'Content-Type': format.contentType,
            'Content-Language': query.lang,
            'Content-Disposition': `attachment; filename="${reportFilename(rollout, query.format)}"`,
            'X-Content-Type-Options': 'nosniff',
            // The page loads nothing and runs nothing, even when opened straight from this URL.
            'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
            'Cache-Control': 'no-store',
          })
          .send(format.render(report, words));
        return undefined;
      },
    }),
  ];
}
