import { parseSetCookie } from 'cookie';

/**
 * Signing in as a browser would, with fetch: follow each redirect by hand, keep cookies, fill in
 * the provider's login form. Cookies are kept per host, not per port, as browsers keep them (the
 * provider and the controller both run on 127.0.0.1).
 */

export class CookieJar {
  private readonly cookies = new Map<string, string>();
  /** Every Set-Cookie line the controller sent, as sent (for checking attributes). */
  readonly controllerSetCookies: string[] = [];

  take(res: Response, fromController: boolean): void {
    for (const line of res.headers.getSetCookie()) {
      if (fromController) this.controllerSetCookies.push(line);
      const cookie = parseSetCookie(line);
      if (!cookie.value || cookie.maxAge === 0) this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
  }

  get(name: string): string | undefined {
    return this.cookies.get(name);
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

export interface SignInOutcome {
  jar: CookieJar;
  /** Where the controller sent the person in the end (the dashboard, when signed in). */
  landedAt?: URL;
  /** The last answer when sign-in stopped on a page (a refusal). */
  stoppedAt?: { url: URL; status: number; text: string };
}

/** Signs `login` in through the provider, starting at the controller's /auth/login (as the dashboard's button does). */
export async function signInThroughProvider(controllerUrl: string, login: string, start = '/auth/login', jar = new CookieJar()): Promise<SignInOutcome> {
  const controller = new URL(controllerUrl);
  let url = new URL(start, controller);
  let request: RequestInit = { method: 'GET' };
  for (let hop = 0; hop < 20; hop++) {
    const res = await fetch(url, { ...request, redirect: 'manual', headers: { ...(request.headers as Record<string, string>), cookie: jar.header() } });
    const fromController = url.port === controller.port;
    jar.take(res, fromController);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      url = new URL(location, url);
      // A PUBLIC_URL of https: the TLS-terminating proxy in front of the controller is played by going to it over http.
      if (url.protocol === 'https:' && url.port === controller.port) url.protocol = 'http:';
      request = { method: 'GET' };
      if (url.port === controller.port && url.pathname === '/') return { jar, landedAt: url };
      continue;
    }
    const text = await res.text();
    const action = /<form[^>]*action="([^"]+)"[^>]*method="post"/i.exec(text)?.[1];
    if (res.status === 200 && !fromController && action) {
      url = new URL(action.replaceAll('&amp;', '&'), url);
      request = {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ prompt: 'login', login, password: 'any password' }).toString(),
      };
      continue;
    }
    return { jar, stoppedAt: { url, status: res.status, text } };
  }
  throw new Error(`sign-in of ${login} did not end within 20 hops (last at ${url})`);
}
