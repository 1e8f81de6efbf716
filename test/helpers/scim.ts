import { readFileSync } from 'node:fs';
import { client, type Client, type TestApp } from './app.ts';
import { addMember } from './factories.ts';

// SCIM clients for integration tests: a directory made through the management API, a SCIM
// caller bound to its token, and a runner that replays a recorded IdP session
// (test/fixtures/scim/, see its README) and checks both the SCIM answers and the org.

export interface ScimReply {
  status: number;
  headers: Headers;
  body: any;
}

export type ScimCall = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<ScimReply>;

export interface ScimDirectory {
  id: string;
  orgId: string;
  /** Where this test reaches the directory (the app's ephemeral port). */
  baseUrl: string;
  /** As the API announced it. */
  scimBaseUrl: string;
  token: string;
  /** An admin of the org, on the management API. */
  admin: Client;
  scim: ScimCall;
}

const scimJson = 'application/scim+json';

/** A SCIM caller: `path` is relative to the directory's base URL. */
export function scimClient(baseUrl: string, token: string | null): ScimCall {
  return async (method, path, body, headers = {}) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        accept: scimJson,
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': scimJson } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text || undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text, the assertion will show it
    }
    return { status: res.status, headers: res.headers, body: parsed };
  };
}

/** A directory of `orgId` made by an admin through `POST /api/v1/orgs/:orgId/directories`. */
export async function scimDirectory(t: TestApp, orgId: string, opts: { name?: string; defaultRole?: string; adminKey?: string } = {}): Promise<ScimDirectory> {
  const admin = client(t.url, opts.adminKey ?? (await addMember(t, orgId, 'admin')).key);
  const res = await admin('POST', `/api/v1/orgs/${orgId}/directories`, { name: opts.name ?? 'IdP', defaultRole: opts.defaultRole ?? 'member' });
  if (res.status !== 201) throw new Error(`directory not created: ${res.status} ${res.text}`);
  const { id, scimBaseUrl, token } = res.body as { id: string; scimBaseUrl: string; token: string };
  const baseUrl = `${t.url}/scim/v2/${id}`;
  return { id, orgId, baseUrl, scimBaseUrl, token, admin, scim: scimClient(baseUrl, token) };
}

/** The org's members by lower-cased email, through the management API. */
export async function membersByEmail(dir: Pick<ScimDirectory, 'admin' | 'orgId'>): Promise<Map<string, { userId: string; role: string; source: string }>> {
  const out = new Map<string, { userId: string; role: string; source: string }>();
  let cursor: string | null = null;
  do {
    const res: { status: number; text: string; body: any } = await dir.admin('GET', `/api/v1/orgs/${dir.orgId}/members?limit=200${cursor ? `&cursor=${cursor}` : ''}`);
    if (res.status !== 200) throw new Error(`members: ${res.status} ${res.text}`);
    for (const m of res.body.data) out.set(m.email.toLowerCase(), m);
    cursor = res.body.nextCursor;
  } while (cursor);
  return out;
}

// ---- recorded sessions ----

type Expected = Record<string, unknown>;

export interface SessionStep {
  name: string;
  /** A SCIM request the IdP sent... */
  method?: string;
  path?: string;
  body?: unknown;
  expectStatus?: number;
  /** A subset of the answer's body (arrays compared element by element). */
  expect?: Expected;
  /** Keys (or key paths) the answer must not hold. */
  expectAbsent?: (string | (string | number)[])[];
  /** The ids of a group's members, in any order (absent `members` counts as none). */
  expectMembers?: string[];
  /** Variables taken from the answer: name → dotted path into the body. */
  bind?: Record<string, string>;
  /** ...or a group rule the org's admin adds through the management API. */
  rule?: { groupId: string; role?: string; teamId?: string };
  /** The org afterwards: person → role, or null for no membership. */
  members?: Record<string, string | null>;
  /** Team id → the people of this session in it (exactly). */
  teamMembers?: Record<string, string[]>;
}

export interface Session {
  client: string;
  source: string;
  people: Record<string, string>;
  steps: SessionStep[];
}

export function loadSession(file: string): Session {
  return JSON.parse(readFileSync(new URL(`../fixtures/scim/${file}`, import.meta.url), 'utf8')) as Session;
}

/** `{{name}}` → vars[name]; an unknown name is a fixture mistake, not an empty string. */
function bindVars<T>(value: T, vars: Record<string, string>): T {
  if (typeof value === 'string') {
    return value.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
      if (!(key in vars)) throw new Error(`fixture placeholder {{${key}}} is not bound`);
      return vars[key]!;
    }) as T;
  }
  if (Array.isArray(value)) return value.map((v) => bindVars(v, vars)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [bindVars(k, vars), bindVars(v, vars)])) as T;
  }
  return value;
}

/** Query values are written decoded in the fixtures (readable); encode them as a client would. */
function encodePath(path: string): string {
  const [base, query] = path.split(/\?(.*)/s, 2) as [string, string | undefined];
  if (!query) return base;
  const parts = query.split('&').map((pair) => {
    const eq = pair.indexOf('=');
    return eq < 0 ? encodeURIComponent(pair) : `${encodeURIComponent(pair.slice(0, eq))}=${encodeURIComponent(pair.slice(eq + 1))}`;
  });
  return `${base}?${parts.join('&')}`;
}

function dig(body: any, path: (string | number)[]): unknown {
  return path.reduce((at, key) => (at == null ? undefined : at[key]), body);
}

export interface ReplayOptions {
  /** Placeholders besides the people (domains, ids made by the test). */
  vars: Record<string, string>;
  /** Extra checks after a named step, with the variables bound so far. */
  after?: Record<string, (vars: Record<string, string>) => Promise<void>>;
}

/** Replays `session` against `dir`, step by step; a failure names the step. */
export async function replaySession(dir: ScimDirectory, session: Session, opts: ReplayOptions): Promise<Record<string, string>> {
  const vars: Record<string, string> = { ...opts.vars };
  const people: Record<string, string> = {};
  for (const [alias, email] of Object.entries(session.people)) {
    people[alias] = bindVars(email, vars);
    vars[alias] = people[alias];
    vars[alias.toUpperCase()] = people[alias].toUpperCase();
  }
  for (const raw of session.steps) {
    try {
      const step = bindVars(raw, vars);
      if (step.rule) await addRule(dir, step.rule);
      else await runRequest(dir, step, vars);
      if (step.members) await checkMembers(dir, people, step.members);
      if (step.teamMembers) await checkTeams(dir, people, step.teamMembers);
      await opts.after?.[raw.name]?.(vars);
    } catch (err) {
      if (err instanceof Error) err.message = `${session.client} step "${raw.name}":\n${err.message}`;
      throw err;
    }
  }
  return vars;
}

async function addRule(dir: ScimDirectory, rule: NonNullable<SessionStep['rule']>): Promise<void> {
  const res = await dir.admin('POST', `/api/v1/orgs/${dir.orgId}/directories/${dir.id}/rules`, rule);
  if (res.status !== 201) throw new Error(`rule not added: ${res.status} ${res.text}`);
}

async function runRequest(dir: ScimDirectory, step: SessionStep, vars: Record<string, string>): Promise<void> {
  const res = await dir.scim(step.method!, encodePath(step.path!), step.body);
  if (res.status !== step.expectStatus) throw new Error(`expected status ${step.expectStatus}, got ${res.status}: ${JSON.stringify(res.body)}`);
  if (res.status !== 204) expect(res.headers.get('content-type')).toMatch(/^application\/scim\+json/); // RFC 7644 §8.1
  if (res.status >= 400) {
    // RFC 7644 §3.12: the Error schema, status as a string
    expect(res.body).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: String(res.status) });
  }
  if (res.status === 201) {
    // RFC 7644 §3.3: Location is the new resource's URI, the same as meta.location
    expect(res.body.meta.location).toMatch(new RegExp(`/scim/v2/${dir.id}/(Users|Groups)/${res.body.id}$`));
    expect(res.headers.get('location')).toBe(res.body.meta.location);
  }
  if (step.expect) expect(res.body).toMatchObject(step.expect);
  for (const key of step.expectAbsent ?? []) {
    const path = typeof key === 'string' ? [key] : key;
    expect({ [path.join('.')]: dig(res.body, path) }).toEqual({ [path.join('.')]: undefined });
  }
  if (step.expectMembers) {
    const ids = ((res.body.members ?? []) as { value: string }[]).map((m) => m.value);
    expect(ids.sort()).toEqual([...step.expectMembers].sort());
  }
  for (const [name, path] of Object.entries(step.bind ?? {})) vars[name] = String(dig(res.body, path.split('.')));
}

async function checkMembers(dir: ScimDirectory, people: Record<string, string>, expected: Record<string, string | null>): Promise<void> {
  const members = await membersByEmail(dir);
  const actual: Record<string, unknown> = {};
  const wanted: Record<string, unknown> = {};
  for (const [alias, role] of Object.entries(expected)) {
    const m = members.get(people[alias]!.toLowerCase());
    actual[alias] = m ? { role: m.role, source: m.source } : null;
    wanted[alias] = role === null ? null : { role, source: 'scim' };
  }
  expect(actual).toEqual(wanted);
}

async function checkTeams(dir: ScimDirectory, people: Record<string, string>, expected: Record<string, string[]>): Promise<void> {
  const ours = new Map(Object.entries(people).map(([alias, email]) => [email.toLowerCase(), alias]));
  for (const [teamId, aliases] of Object.entries(expected)) {
    const res = await dir.admin('GET', `/api/v1/orgs/${dir.orgId}/teams/${teamId}/members?limit=200`);
    expect(res.status).toBe(200);
    const inTeam = (res.body.data as { email: string }[]).map((m) => ours.get(m.email.toLowerCase())).filter(Boolean);
    expect({ team: teamId, people: inTeam.sort() }).toEqual({ team: teamId, people: [...aliases].sort() });
  }
}

/** Every account with this address (the person's own and any org-managed ones), oldest first. */
export const accountsWithEmail = (t: TestApp, email: string) =>
  t.db.withoutOrg((em) => em.execute<{ id: string; managed_by_org_id: string | null }[]>(
    'SELECT id, managed_by_org_id FROM users WHERE lower(email) = ? ORDER BY created_at', [email.toLowerCase()]));
