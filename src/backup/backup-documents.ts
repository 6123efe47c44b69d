import { formatPath, issuesError, moreProblems, type FieldIssue } from '../validation/issues.js';
import { checkDocument } from '../validation/stored-documents.js';
import { BACKED_UP_COLLECTIONS, type Backup } from './backup-format.js';

/** A problem with one document of a backup: where it is in the file, and which document and field. */
export interface DocumentIssue extends FieldIssue {
  collection: string;
  document: string;
  /** The field inside the document ("(root)" for the document as a whole). */
  field: string;
}

/**
 * Every problem with the backup's documents, checked with the schemas their readers use (see
 * BACKED_UP_COLLECTIONS): a value that is not a flag, a field of the wrong type, a document stored
 * under another id than its content gives, an id given twice. All of them before anything is written,
 * so a restore is refused whole rather than leaving a store no controller starts on.
 */
export function documentIssues(backup: Pick<Backup, 'collections'>): DocumentIssue[] {
  const issues: DocumentIssue[] = [];
  for (const { name, schema, idOf } of BACKED_UP_COLLECTIONS) {
    const seen = new Set<string>();
    (backup.collections[name] ?? []).forEach((doc, i) => {
      const at = `collections.${name}[${i}]`;
      const issue = (field: ReadonlyArray<PropertyKey>, message: string) => {
        issues.push({ path: formatPath(`${at}.value`, field), collection: name, document: doc.id, field: formatPath('', field), message });
      };
      if (seen.has(doc.id)) issue([], `a second document with the id "${doc.id}"`);
      seen.add(doc.id);
      const checked = checkDocument(schema, name, doc.id, doc.value);
      if (!checked.ok) {
        for (const problem of checked.problem.issues) {
          issues.push({
            path: problem.path === '(root)' ? `${at}.value` : `${at}.value.${problem.path}`,
            collection: name,
            document: doc.id,
            field: problem.path,
            message: problem.message,
          });
        }
      } else if (idOf) {
        const own = idOf(checked.value as never);
        if (own !== doc.id) issue([], `stored under the id "${doc.id}" but names itself "${own}"`);
      }
    });
  }
  return issues;
}

/** Refuses (400) a backup whose documents do not all pass, naming each document and field (a bounded list). */
export function assertDocumentsValid(backup: Pick<Backup, 'collections'>): void {
  const issues = documentIssues(backup);
  const first = issues[0];
  if (!first) return;
  const more = issues.length > 1 ? ` (${moreProblems(issues.length - 1)})` : '';
  throw issuesError('backup', issues, issues.length, `document ${first.collection}/${first.document}: ${first.field}: ${first.message}${more}`);
}
