import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type ParsedNode, type Pair } from 'yaml';
import { builtinRoleKeys, isBuiltinRole, isPermission, type BuiltinRole } from '../modules/roles/permissions.ts';

// GATEHOUSE_ROUTES, from text to a checked specification (route-policy.ts compiles it). Every
// problem is reported with its line, all at once, so an operator fixes a file in one go.

export const routeMethods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type RouteMethod = (typeof routeMethods)[number];

export type Segment = { kind: 'literal'; text: string } | { kind: 'param'; name: string } | { kind: 'rest' };

export interface RouteSpecLine {
  line: number;
  /** '*': any method. */
  method: RouteMethod | '*';
  segments: Segment[];
  /** null: `auth: none` (a public route). */
  permission: string | null;
}

export interface PolicySpec {
  /** Product permission → the built-in roles that hold it, in file order. */
  permissions: Map<string, BuiltinRole[]>;
  routes: RouteSpecLine[];
}

export interface PolicyLineError {
  line: number;
  message: string;
}

const permissionShape = /^[a-z0-9_.-]+:[a-z0-9_.-]+$/;
const paramShape = /^:([A-Za-z_][A-Za-z0-9_]*)$/;
// RFC 3986 pchar without '%': the path is matched raw, so an encoded literal would be a trap.
const literalShape = /^[A-Za-z0-9._~!$&'()+,;=@:-]+$/;
// The path values the gateway checks against the credential (gateway-principal.ts RouteDecision).
const scopedParams = new Set(['orgId', 'orgSlug', 'workspaceId']);
const routeKeys = new Set(['match', 'permission', 'auth']);

class Problems {
  readonly list: PolicyLineError[] = [];
  readonly #lines: LineCounter;

  constructor(lines: LineCounter) {
    this.#lines = lines;
  }

  lineOf(node: Node | null | undefined, fallback = 1): number {
    const offset = node?.range?.[0];
    return offset === undefined ? fallback : this.#lines.linePos(offset).line;
  }

  add(node: Node | null | undefined, message: string, fallback = 1): void {
    this.list.push({ line: this.lineOf(node, fallback), message });
  }
}

/** Parses and checks a policy; the spec is only meaningful when `errors` is empty. */
export function parsePolicyText(text: string): { spec: PolicySpec; errors: PolicyLineError[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problems = new Problems(lines);
  const spec: PolicySpec = { permissions: new Map(), routes: [] };
  if (doc.errors.length) {
    for (const e of doc.errors) problems.list.push({ line: lines.linePos(e.pos[0]).line, message: e.message.split('\n')[0]! });
    return { spec, errors: problems.list };
  }
  readTop(doc.contents, spec, problems);
  return { spec, errors: problems.list.sort((a, b) => a.line - b.line) };
}

function readTop(root: ParsedNode | null, spec: PolicySpec, problems: Problems): void {
  if (!isMap(root)) {
    // An empty file is refused too: it is what a half-written save looks like.
    problems.add(root, 'the policy must be a mapping with `permissions:` and `routes:`');
    return;
  }
  let routes: Pair<unknown, unknown> | undefined;
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? pair.key.value : undefined;
    if (key === 'permissions') readPermissions(pair.value as Node | null, spec, problems, problems.lineOf(pair.key as Node));
    else if (key === 'routes') routes = pair;
    else problems.add(pair.key as Node, `unknown key ${JSON.stringify(String(key))} (expected permissions or routes)`);
  }
  // Routes last: they may name permissions declared further down the file.
  if (!routes) problems.add(root, '`routes:` is missing');
  else readRoutes(routes.value as Node | null, spec, problems, problems.lineOf(routes.key as Node));
}

function readPermissions(node: Node | null, spec: PolicySpec, problems: Problems, line: number): void {
  if (node === null || (isScalar(node) && node.value === null)) return;
  if (!isMap(node)) return problems.add(node, '`permissions:` must map each permission to the built-in roles holding it', line);
  for (const pair of node.items) {
    const keyNode = pair.key as Node;
    const name = isScalar(keyNode) ? keyNode.value : undefined;
    if (typeof name !== 'string' || !permissionShape.test(name)) {
      problems.add(keyNode, `permission ${JSON.stringify(String(name))} must look like resource:action (lower-case letters, digits, _ . -)`);
      continue;
    }
    if (isPermission(name)) {
      problems.add(keyNode, `permission "${name}" is one of Gatehouse's own; the product's permissions need other names`);
      continue;
    }
    const roles = readRoles(pair.value as Node | null, name, problems, problems.lineOf(keyNode));
    // Granting a permission to a custom role takes holding it, so one the owner lacked could
    // never be granted by anyone; the owner holds everything, and the file must say so.
    if (roles && !roles.includes('owner')) problems.add(keyNode, `permission "${name}" must list owner: the owner holds every permission`);
    else if (roles) spec.permissions.set(name, roles);
  }
}

function readRoles(node: Node | null, permission: string, problems: Problems, line: number): BuiltinRole[] | null {
  if (!isSeq(node)) {
    problems.add(node, `permission "${permission}" needs a list of the built-in roles that hold it (at least owner)`, line);
    return null;
  }
  const roles: BuiltinRole[] = [];
  for (const item of node.items as Node[]) {
    const role = isScalar(item) ? item.value : undefined;
    if (typeof role === 'string' && isBuiltinRole(role)) {
      if (!roles.includes(role)) roles.push(role);
    } else {
      problems.add(item, `${JSON.stringify(String(role))} is not a built-in role (${builtinRoleKeys.join(', ')}); custom roles get product permissions through the management API`, line);
    }
  }
  return roles;
}

function readRoutes(node: Node | null, spec: PolicySpec, problems: Problems, line: number): void {
  if (node === null || (isScalar(node) && node.value === null)) return;
  if (!isSeq(node)) return problems.add(node, '`routes:` must be a list of routes', line);
  const seen = new Map<string, number>();
  for (const item of node.items as Node[]) {
    const route = readRoute(item, spec, problems);
    if (!route) continue;
    const key = `${route.method} ${route.segments.map((s) => (s.kind === 'literal' ? s.text : s.kind === 'param' ? ':' : '*')).join('/')}`;
    const earlier = seen.get(key);
    if (earlier !== undefined) problems.add(item, `this route repeats the match of line ${earlier}, so it could never apply`);
    else seen.set(key, route.line);
    spec.routes.push(route);
  }
}

function readRoute(node: Node, spec: PolicySpec, problems: Problems): RouteSpecLine | null {
  if (!isMap(node)) {
    problems.add(node, 'a route must be a mapping with `match:` and `permission:` (or `auth: none`)');
    return null;
  }
  const fields = new Map<string, Node | null>();
  for (const pair of node.items) {
    const key = isScalar(pair.key) ? pair.key.value : undefined;
    if (typeof key === 'string' && routeKeys.has(key)) fields.set(key, pair.value as Node | null);
    else problems.add(pair.key as Node, `unknown route key ${JSON.stringify(String(key))} (expected match, permission or auth)`);
  }
  const line = problems.lineOf(node);
  const before = problems.list.length;
  const match = readMatch(fields.get('match'), problems, line);
  const permission = readAccess(fields, spec, problems, line);
  if (match && permission === null && match.segments.some((s) => s.kind === 'param' && scopedParams.has(s.name))) {
    // A public route is proxied without a credential, so nothing could check the org or workspace it names.
    problems.add(node, 'a route naming :orgId, :orgSlug or :workspaceId cannot be `auth: none`: there would be no credential to check it against');
  }
  if (!match || permission === undefined || problems.list.length > before) return null;
  return { line, method: match.method, segments: match.segments, permission };
}

/** The route's permission; null for `auth: none`; undefined when wrong (already reported). */
function readAccess(fields: Map<string, Node | null>, spec: PolicySpec, problems: Problems, line: number): string | null | undefined {
  const permission = fields.get('permission');
  const auth = fields.get('auth');
  if (permission !== undefined && auth !== undefined) {
    problems.add(auth, 'a route has either `permission:` or `auth: none`, not both', line);
    return undefined;
  }
  if (auth !== undefined) {
    if (isScalar(auth) && auth.value === 'none') return null;
    problems.add(auth, '`auth:` can only be `none` (a public route); protected routes name a `permission:`', line);
    return undefined;
  }
  if (permission === undefined) {
    problems.add(null, 'a route needs a `permission:` (or `auth: none` for a public route)', line);
    return undefined;
  }
  const name = isScalar(permission) ? permission.value : undefined;
  if (typeof name === 'string' && spec.permissions.has(name)) return name;
  const why = typeof name === 'string' && isPermission(name)
    ? 'is one of Gatehouse\'s own; routes use the product\'s permissions declared under `permissions:`'
    : 'is not declared under `permissions:`';
  problems.add(permission, `permission ${JSON.stringify(String(name))} ${why}`, line);
  return undefined;
}

function readMatch(node: Node | null | undefined, problems: Problems, line: number): { method: RouteMethod | '*'; segments: Segment[] } | null {
  if (node === undefined) {
    problems.add(null, 'a route needs `match: "<METHOD> <path>"`', line);
    return null;
  }
  const value = isScalar(node) ? node.value : undefined;
  const parts = typeof value === 'string' ? /^(\S+) +(\S+)$/.exec(value) : null;
  if (!parts) {
    problems.add(node, 'match must be "<METHOD> <path>", e.g. "GET /orgs/:orgId/agents"', line);
    return null;
  }
  const method = parts[1]!;
  let ok = true;
  if (method !== '*' && !(routeMethods as readonly string[]).includes(method)) {
    problems.add(node, `method "${method}" is not one of ${routeMethods.join(' ')} or *`, line);
    ok = false;
  }
  const segments = readPath(parts[2]!, (message) => problems.add(node, message, line));
  return ok && segments ? { method: method as RouteMethod | '*', segments } : null;
}

function readPath(path: string, report: (message: string) => void): Segment[] | null {
  if (!path.startsWith('/')) {
    report(`path "${path}" must start with /`);
    return null;
  }
  if (path === '/') return [];
  const raw = path.slice(1).split('/');
  const segments: Segment[] = [];
  const names = new Set<string>();
  let ok = true;
  const fail = (message: string) => { report(message); ok = false; };
  raw.forEach((seg, i) => {
    const param = paramShape.exec(seg);
    if (seg === '') fail(`path "${path}" has an empty segment (a double or trailing slash)`);
    else if (seg === '*') {
      if (i === raw.length - 1) segments.push({ kind: 'rest' });
      else fail(`path "${path}": * may only be the last segment`);
    } else if (param) {
      const name = param[1]!;
      if (names.has(name)) fail(`path "${path}" names :${name} twice`);
      names.add(name);
      segments.push({ kind: 'param', name });
    } else if (seg.startsWith(':')) fail(`path "${path}": parameter "${seg}" must be : and a name of letters, digits or _`);
    else if (seg === '.' || seg === '..' || !literalShape.test(seg)) {
      fail(`path "${path}": segment "${seg}" must be literal text (no %-encoding, no dot segments), a :param or a final *`);
    } else segments.push({ kind: 'literal', text: seg });
  });
  return ok ? segments : null;
}
