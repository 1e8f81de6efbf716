/** A problem the management API answered (RFC 9457), for the page to show in words. */
export class ApiProblem extends Error {
  readonly status: number;
  readonly code: string;
  /** A validation problem's field errors (`body.email`: what is wrong), for forms to show. */
  readonly errors: { field: string; message: string }[];

  constructor(status: number, code: string, detail: string, errors: { field: string; message: string }[] = []) {
    super(detail);
    this.status = status;
    this.code = code;
    this.errors = errors;
  }
}

export interface ApiCall {
  method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  body?: unknown;
  query?: Record<string, string | undefined>;
}

/**
 * The console's client of the management API, bound to one caller's bearer credential and
 * reaching the API on this node's loopback listener: every page acts through the same guards,
 * validation and row-level security as any other API client, never around them.
 */
export class ConsoleApi {
  readonly #base: string;
  readonly #credential: string;
  readonly #forwardedFor: string;

  constructor(selfUrl: string, credential: string, clientIp: string) {
    this.#base = `${selfUrl}/api/v1`;
    this.#credential = credential;
    this.#forwardedFor = clientIp;
  }

  get<T = any>(path: string, query?: ApiCall['query']): Promise<T> {
    return this.call<T>(path, { method: 'GET', ...(query ? { query } : {}) });
  }

  post<T = any>(path: string, body: unknown = {}): Promise<T> {
    return this.call<T>(path, { method: 'POST', body });
  }

  patch<T = any>(path: string, body: unknown): Promise<T> {
    return this.call<T>(path, { method: 'PATCH', body });
  }

  put<T = any>(path: string, body: unknown): Promise<T> {
    return this.call<T>(path, { method: 'PUT', body });
  }

  delete<T = any>(path: string): Promise<T> {
    return this.call<T>(path, { method: 'DELETE' });
  }

  /** The raw response of a GET (exports: CSV or NDJSON streamed to the browser). */
  async raw(path: string, query?: ApiCall['query']): Promise<Response> {
    const res = await fetch(this.#url(path, query), { headers: this.#headers(false) });
    if (!res.ok) throw await problemOf(res);
    return res;
  }

  async call<T>(path: string, { method = 'GET', body, query }: ApiCall): Promise<T> {
    const res = await fetch(this.#url(path, query), {
      method,
      headers: this.#headers(body !== undefined),
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (!res.ok) throw await problemOf(res);
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  #url(path: string, query?: ApiCall['query']): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') params.set(k, v);
    const qs = params.toString();
    return `${this.#base}${path}${qs ? `?${qs}` : ''}`;
  }

  #headers(json: boolean): Record<string, string> {
    // X-Forwarded-For counts only where TRUST_PROXY is on, as for any request: then audit events
    // name the browser's address, not loopback.
    return { authorization: `Bearer ${this.#credential}`, 'x-forwarded-for': this.#forwardedFor, ...(json ? { 'content-type': 'application/json' } : {}) };
  }
}

async function problemOf(res: Response): Promise<ApiProblem> {
  const body = (await res.json().catch(() => ({}))) as { code?: string; detail?: string; title?: string; errors?: unknown };
  const errors = Array.isArray(body.errors)
    ? body.errors.filter((e): e is { field: string; message: string } => typeof e?.field === 'string' && typeof e?.message === 'string')
    : [];
  return new ApiProblem(res.status, body.code ?? `http.${res.status}`, body.detail ?? body.title ?? `The request failed (${res.status}).`, errors);
}
