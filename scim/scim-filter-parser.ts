import { scimError } from './scim-errors.ts';

// A parser for RFC 7644 §3.4.2.2 filter expressions. scimmy's Types.Filter cannot be used for
// translation to a query: it rejects escaped quotes in strings, fails on nested groups
// (`(a and (b or c))`), distributes `not` over a group without De Morgan (`not (a or b)` becomes
// `not a or not b`) and merges a value filter with sibling conditions on the same attribute.
// This parser builds a tree; scim-filter.ts validates it against the schema and normalises it.

export type FilterValue = string | number | boolean | null;

export type FilterNode =
  | { kind: 'compare'; path: string; op: string; value?: FilterValue }
  | { kind: 'element'; path: string; filter: FilterNode; sub?: { path: string; op: string; value?: FilterValue } }
  | { kind: 'and' | 'or'; items: FilterNode[] }
  | { kind: 'not'; item: FilterNode };

type Token =
  | { t: 'word'; v: string }
  | { t: 'value'; v: FilterValue }
  | { t: 'punct'; v: '(' | ')' | '[' | ']' };

const OPS = new Set(['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le', 'pr']);
export const MAX_FILTER_LENGTH = 4096;
const MAX_DEPTH = 32;

const invalid = (detail: string) => scimError(400, 'invalidFilter', detail);

function tokenise(input: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s+|"(?:[^"\\]|\\.)*"|[()[\]]|[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.:-])|[A-Za-z$_][\w$:.\-/]*|\.[A-Za-z$_][\w$\-]*/y;
  let at = 0;
  while (at < input.length) {
    re.lastIndex = at;
    const m = re.exec(input);
    if (!m) throw invalid(`Unexpected character at position ${at + 1} of the filter.`);
    const text = m[0];
    at += text.length;
    if (/^\s/.test(text)) continue;
    if (text.startsWith('"')) tokens.push({ t: 'value', v: unquote(text) });
    else if ('()[]'.includes(text)) tokens.push({ t: 'punct', v: text as '(' });
    else if (/^[-+\d]/.test(text)) tokens.push({ t: 'value', v: Number(text) });
    else tokens.push({ t: 'word', v: text });
  }
  return tokens;
}

/** RFC 7644 strings are JSON strings (RFC 7159 §7): `\"`, `\\`, `\u00e9` escapes. */
function unquote(text: string): string {
  try {
    return JSON.parse(text) as string;
  } catch {
    throw invalid('A string in the filter has an invalid escape sequence.');
  }
}

class Parser {
  readonly #tokens: Token[];
  #at = 0;
  constructor(tokens: Token[]) { this.#tokens = tokens; }

  parse(): FilterNode {
    const node = this.#or(0);
    if (this.#at < this.#tokens.length) throw invalid('Unexpected text after the end of the filter.');
    return node;
  }

  #peekWord(): string | null {
    const token = this.#tokens[this.#at];
    return token?.t === 'word' ? token.v.toLowerCase() : null;
  }

  #isPunct(p: string): boolean {
    const token = this.#tokens[this.#at];
    return token?.t === 'punct' && token.v === p;
  }

  #expect(p: string): void {
    if (!this.#isPunct(p)) throw invalid(`Expected '${p}' in the filter.`);
    this.#at++;
  }

  #or(depth: number): FilterNode {
    if (depth > MAX_DEPTH) throw invalid('The filter is nested too deeply.');
    const items = [this.#and(depth)];
    while (this.#peekWord() === 'or') { this.#at++; items.push(this.#and(depth)); }
    return items.length === 1 ? items[0]! : { kind: 'or', items };
  }

  #and(depth: number): FilterNode {
    const items = [this.#factor(depth)];
    while (this.#peekWord() === 'and') { this.#at++; items.push(this.#factor(depth)); }
    return items.length === 1 ? items[0]! : { kind: 'and', items };
  }

  #factor(depth: number): FilterNode {
    if (this.#peekWord() === 'not') {
      this.#at++;
      return { kind: 'not', item: this.#group(depth) };
    }
    if (this.#isPunct('(')) return this.#group(depth);
    return this.#attribute(depth);
  }

  #group(depth: number): FilterNode {
    this.#expect('(');
    const node = this.#or(depth + 1);
    this.#expect(')');
    return node;
  }

  #attribute(depth: number): FilterNode {
    const token = this.#tokens[this.#at++];
    if (token?.t !== 'word' || OPS.has(token.v.toLowerCase())) throw invalid('Expected an attribute name in the filter.');
    if (!this.#isPunct('[')) return { kind: 'compare', path: token.v, ...this.#comparison(token.v) };
    this.#at++;
    const filter = this.#or(depth + 1);
    this.#expect(']');
    const next = this.#tokens[this.#at];
    if (next?.t === 'word' && next.v.startsWith('.')) {
      this.#at++;
      const path = next.v.slice(1);
      return { kind: 'element', path: token.v, filter, sub: { path, ...this.#comparison(path) } };
    }
    return { kind: 'element', path: token.v, filter };
  }

  #comparison(path: string): { op: string; value?: FilterValue } {
    const opToken = this.#tokens[this.#at++];
    const op = opToken?.t === 'word' ? opToken.v.toLowerCase() : '';
    if (!OPS.has(op)) throw invalid(`Expected a comparison operator after '${path}' in the filter.`);
    if (op === 'pr') return { op };
    const valueToken = this.#tokens[this.#at];
    if (valueToken?.t === 'value') { this.#at++; return { op, value: valueToken.v }; }
    const literal = valueToken?.t === 'word' ? valueToken.v.toLowerCase() : '';
    if (literal === 'true' || literal === 'false') { this.#at++; return { op, value: literal === 'true' }; }
    if (literal === 'null') { this.#at++; return { op, value: null }; }
    throw invalid(`The '${op}' comparison on '${path}' has no value.`);
  }
}

/** Parses a filter expression into a tree (invalidFilter on a syntax error). */
export function parseFilter(expression: string): FilterNode {
  if (expression.length > MAX_FILTER_LENGTH) throw invalid('The filter is too long.');
  const tokens = tokenise(expression);
  if (tokens.length === 0) throw invalid('The filter is empty.');
  return new Parser(tokens).parse();
}
