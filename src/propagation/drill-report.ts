import type { AuditEvent } from '../audit/chain.js';
import { mdText } from '../reports/render-markdown.js';
import { formatTime } from '../reports/report-format.js';
import type { DrillRecord } from './drill-record.js';
import { SEEN_WINDOW_MS } from './sightings.js';
import { drillVerdict, msText } from './drill-verdict.js';

/**
 * A drill as a change board files it: did the kill reach every connected application, how fast,
 * which ones it did not reach, and that the flag was restored. Markdown; every value that came from
 * a person or an SDK (reason, names) is escaped, so it cannot reshape the document.
 */

const SHARE_ROWS: Array<[string, keyof DrillRecord['ms']]> = [
  ['50 %', 'p50'],
  ['99 %', 'p99'],
  ['100 %', 'max'],
];

function table(header: string[], rows: string[][]): string[] {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((row) => `| ${row.join(' | ')} |`)];
}

export function renderDrillReport(r: DrillRecord, event: Pick<AuditEvent, 'seq' | 'actor' | 'at'> | undefined): string {
  const out: string[] = [`# Rollback drill: ${mdText(r.flag)} in ${mdText(r.environment)}`, '', `**${mdText(drillVerdict(r))}**`, ''];
  out.push(
    ...table(
      ['Item', 'Value'],
      [
        ['Flag', mdText(r.flag)],
        ['Environment', mdText(r.environment)],
        ['Reason', mdText(r.reason)],
        ...(event
          ? [
              ['Run by', mdText(event.actor.name)],
              ['Audit event', `#${event.seq}`],
            ]
          : []),
        ['Kill asked for', formatTime(r.startedAt)],
        ['Waited at most', `${r.timeoutSeconds} s`],
        ['Restored', r.restore.restored ? formatTime(r.restore.at) : `**no**: ${mdText(r.restore.why)}`],
        ['Connected SDK instances', String(r.instances)],
        ['Had the kill', String(r.confirmed)],
      ],
    ),
    '',
    '## Time for the kill to reach the instances',
    '',
    ...table(
      ['Share of instances', 'Time after the kill'],
      SHARE_ROWS.map(([label, key]) => [label, msText(r.ms[key])]),
    ),
    '',
  );
  if (r.missing.length > 0) {
    out.push('## Instances that never had the kill', '');
    out.push(
      ...table(
        ['Application', 'Instance id', 'Last seen'],
        r.missing.map((m) => [mdText(m.appName ?? '(unknown)'), mdText(m.instanceId ?? `#${m.instance}`), formatTime(m.lastSeenAt)]),
      ),
    );
    if (r.missingNotListed > 0) out.push('', `And ${r.missingNotListed} more, not listed.`);
    out.push('');
  }
  out.push(
    '## How it was measured',
    '',
    `The controller flipped the flag's kill switch (audited, reason \`drill: …\`), then waited for every SDK instance seen in the ` +
      `${SEEN_WINDOW_MS / 60_000} minutes before (a poll, a stream, a registration) to hold it: a polling SDK once it fetched the ` +
      'payload with the kill (or a delta holding it), a streaming SDK once the update was written to its stream. Times run from ' +
      'the kill request to the moment the replica serving the instance did so, by that replica’s clock. Then it restored the ' +
      'kill switch, unless someone had killed the flag for real meanwhile.',
    '',
  );
  return out.join('\n');
}
