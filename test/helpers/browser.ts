/**
 * A form-posting user agent for the hosted sign-in, without a browser: keeps cookies per
 * origin+path (enough for one host), follows nothing by itself, and reads forms from the HTML.
 */
export class FormAgent {
  readonly #cookies = new Map<string, { value: string; path: string }>();

  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<{ status: number; location: string | null; html: string; url: string }> {
    const path = new URL(url).pathname;
    const cookie = [...this.#cookies.entries()]
      .filter(([, c]) => path.startsWith(c.path))
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ');
    const res = await fetch(url, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      redirect: 'manual',
      headers: {
        ...(cookie ? { cookie } : {}),
        ...(init.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: init.form ? new URLSearchParams(init.form).toString() : undefined,
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((s) => s.trim());
      const [name, ...rest] = pair!.split('=');
      const cookiePath = attrs.find((a) => a.toLowerCase().startsWith('path='))?.slice(5) ?? '/';
      const expired = attrs.some((a) => /^expires=thu, 01 jan 1970/i.test(a)) || attrs.some((a) => /^max-age=0$/i.test(a));
      if (expired) this.#cookies.delete(name!);
      else this.#cookies.set(name!, { value: rest.join('='), path: cookiePath });
    }
    const location = res.headers.get('location');
    return { status: res.status, location: location ? new URL(location, url).toString() : null, html: await res.text(), url };
  }

  /** Follows redirects until one leaves `origin` (the relying party's callback) or a page answers. */
  async follow(url: string, origin: string): Promise<{ status: number; location: string | null; html: string; url: string }> {
    let res = await this.request(url);
    while (res.location && new URL(res.location).origin === origin && [302, 303].includes(res.status)) {
      res = await this.request(res.location);
    }
    return res;
  }
}

/** The first form's action and fields (hidden and filled) of a page. */
export function readForm(html: string, base: string): { action: string; fields: Record<string, string> } {
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  if (!action) throw new Error(`no form on the page:\n${html.slice(0, 500)}`);
  const fields: Record<string, string> = {};
  for (const [tag] of html.matchAll(/<input[^>]*>/g)) {
    const name = /\sname="([^"]+)"/.exec(tag)?.[1];
    if (name) fields[name] = decode(/\svalue="([^"]*)"/.exec(tag)?.[1] ?? '');
  }
  return { action: new URL(decode(action), base).toString(), fields };
}

function decode(html: string): string {
  return html.replace(/&#(\d+);/g, (_m, code: string) => String.fromCharCode(Number(code)));
}
