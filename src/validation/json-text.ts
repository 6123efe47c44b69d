/** Whether `text` parses as JSON (a stored document, a variant's `json` payload). */
export function isJsonText(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
