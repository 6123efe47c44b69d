import { request } from './api.js';

/**
 * Reports need the token, so they are fetched and handed to the browser as a file, under the name
 * the server gives (Content-Disposition; a blob cannot carry it by itself). Answers the name.
 */
export async function downloadFrom(path: string, fallbackName: string): Promise<string> {
  const res = await request('GET', path);
  const filename = /filename="([^"]+)"/.exec(res.headers.get('Content-Disposition') ?? '')?.[1] ?? fallbackName;
  const url = URL.createObjectURL(await res.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return filename;
}
