import type { ProductPermissions } from '../modules/roles/product-permissions.ts';
import type { RouteDecision } from './gateway-principal.ts';
import { parsePolicyText, routeMethods, type PolicyLineError, type PolicySpec, type RouteSpecLine } from './route-policy-parse.ts';

/** A policy that cannot be used, with every problem and its line. */
export class RoutePolicyError extends Error {
  readonly errors: readonly PolicyLineError[];

  constructor(errors: readonly PolicyLineError[], source = 'route policy') {
    super(`${source} rejected:\n${errors.map((e) => `  line ${e.line}: ${e.message}`).join('\n')}`);
    this.name = 'RoutePolicyError';
    this.errors = errors;
  }
}

const SLASH = 47;

interface CompiledRoute {
  /** Position in the file: among the routes that match, the lowest wins. */
  readonly order: number;
  /** The decision, from the path's segment bounds (one shared object when the route captures nothing). */
  readonly decide: (path: string, bounds: Int32Array) => RouteDecision;
}

/** A trie of path segments; the routes that end at a node, or continue with a final *, hang from it. */
interface TrieNode {
  readonly literals: Map<string, TrieNode>;
  param: TrieNode | null;
  /** The first route (in file order) whose pattern ends here, and the first with a * here. */
  end: CompiledRoute | null;
  rest: CompiledRoute | null;
  /** The lowest order below this node: a branch that cannot beat the best found is skipped. */
  minOrder: number;
}

const publicDecision: RouteDecision = Object.freeze({ kind: 'public' });

/**
 * The route policy in force: the product's permissions, and the routes compiled for matching on
 * the proxy's hot path. A match finds the path's segment bounds in one pass (no split, no regex,
 * no decoding), then walks a per-method trie; it allocates only the lookup key of a literal
 * segment and the decision of a route that captures path values.
 */
export class RoutePolicy implements ProductPermissions {
  readonly declared: ReadonlySet<string>;
  readonly #byRole: ReadonlyMap<string, readonly string[]>;
  /** One trie per method with the `*` routes in it too; `#anyMethod` holds the `*` ones alone. */
  readonly #byMethod: ReadonlyMap<string, TrieNode>;
  readonly #anyMethod: TrieNode;
  readonly #maxDepth: number;
  /** Start and end of each path segment (matching is synchronous, so one buffer serves every call). */
  readonly #bounds: Int32Array;

  /** Parses a policy's text; throws RoutePolicyError with every problem and its line. */
  static parse(text: string, source?: string): RoutePolicy {
    const { spec, errors } = parsePolicyText(text);
    if (errors.length) throw new RoutePolicyError(errors, source);
    return new RoutePolicy(spec);
  }

  constructor(spec: PolicySpec) {
    this.declared = new Set(spec.permissions.keys());
    const byRole = new Map<string, string[]>();
    for (const [permission, roles] of spec.permissions) {
      for (const role of roles) byRole.set(role, [...(byRole.get(role) ?? []), permission]);
    }
    this.#byRole = new Map([...byRole].map(([role, list]) => [role, Object.freeze(list)]));
    const trieOf = (accepts: (method: string) => boolean) => {
      const root = newNode();
      spec.routes.forEach((route, order) => { if (accepts(route.method)) insert(root, route, order); });
      return root;
    };
    this.#byMethod = new Map(routeMethods.map((m) => [m, trieOf((method) => method === m || method === '*')]));
    this.#anyMethod = trieOf((method) => method === '*');
    this.#maxDepth = Math.max(0, ...spec.routes.map((r) => r.segments.length));
    this.#bounds = new Int32Array(2 * (this.#maxDepth + 1));
  }

  ofBuiltinRole(role: string): readonly string[] {
    return this.#byRole.get(role) ?? [];
  }

  /** The first route in file order whose method and path match; null when none does (denied). */
  match(method: string, path: string): RouteDecision | null {
    if (path.charCodeAt(0) !== SLASH) return null;
    const count = segmentBounds(path, this.#bounds, this.#maxDepth);
    const route = search(this.#byMethod.get(method) ?? this.#anyMethod, path, this.#bounds, count, 0, null);
    return route ? route.decide(path, this.#bounds) : null;
  }
}

/**
 * Fills `bounds` with [start, end) of each segment of `path` ('/' alone has none; '/a/' has 'a'
 * and an empty one) and answers their number, at most maxDepth + 1 ("more than any pattern").
 */
function segmentBounds(path: string, bounds: Int32Array, maxDepth: number): number {
  const len = path.length;
  if (len === 1) return 0;
  let count = 0;
  let pos = 1;
  for (;;) {
    const slash = path.indexOf('/', pos);
    bounds[2 * count] = pos;
    bounds[2 * count + 1] = slash < 0 ? len : slash;
    count++;
    if (slash < 0 || count > maxDepth) return count;
    pos = slash + 1;
  }
}

/**
 * The lowest-order route matching the segments from `depth` on. A literal matches its exact raw
 * text, a param one non-empty segment, a final * one or more remaining segments whose first is
 * not empty; the path must be used up exactly otherwise.
 */
function search(node: TrieNode, path: string, bounds: Int32Array, count: number, depth: number, best: CompiledRoute | null): CompiledRoute | null {
  if (best && best.order <= node.minOrder) return best;
  if (depth === count) return better(best, node.end);
  const start = bounds[2 * depth]!;
  const end = bounds[2 * depth + 1]!;
  if (end === start) return best;
  best = better(best, node.rest);
  if (node.literals.size) {
    const child = node.literals.get(path.slice(start, end));
    if (child) best = search(child, path, bounds, count, depth + 1, best);
  }
  if (node.param) best = search(node.param, path, bounds, count, depth + 1, best);
  return best;
}

function better(a: CompiledRoute | null, b: CompiledRoute | null): CompiledRoute | null {
  if (!a) return b;
  return b && b.order < a.order ? b : a;
}

function newNode(): TrieNode {
  return { literals: new Map(), param: null, end: null, rest: null, minOrder: Infinity };
}

function insert(root: TrieNode, route: RouteSpecLine, order: number): void {
  const compiled: CompiledRoute = { order, decide: decider(route) };
  let node = root;
  node.minOrder = Math.min(node.minOrder, order);
  for (const segment of route.segments) {
    if (segment.kind === 'rest') {
      node.rest ??= compiled;
      return;
    }
    let next: TrieNode | null | undefined = segment.kind === 'param' ? node.param : node.literals.get(segment.text);
    if (!next) {
      next = newNode();
      if (segment.kind === 'param') node.param = next;
      else node.literals.set(segment.text, next);
    }
    node = next;
    node.minOrder = Math.min(node.minOrder, order);
  }
  node.end ??= compiled;
}

function decider(route: RouteSpecLine): CompiledRoute['decide'] {
  const permission = route.permission;
  if (permission === null) return () => publicDecision;
  const at = (name: string) => route.segments.findIndex((s) => s.kind === 'param' && s.name === name);
  const org = at('orgId');
  const slug = at('orgSlug');
  const workspace = at('workspaceId');
  if (org < 0 && slug < 0 && workspace < 0) {
    const fixed: RouteDecision = Object.freeze({ kind: 'protected', permission });
    return () => fixed;
  }
  const value = (path: string, bounds: Int32Array, i: number) => (i < 0 ? undefined : path.slice(bounds[2 * i], bounds[2 * i + 1]));
  return (path, bounds) => ({
    kind: 'protected',
    permission,
    orgId: value(path, bounds, org),
    orgSlug: value(path, bounds, slug),
    workspaceId: value(path, bounds, workspace),
  });
}
