/**
 * A piece of SQL with its parameters in the order their `?` appear. Composing fragments through
 * `sql` keeps the two in step however deeply they nest, so a value can only ever be a parameter.
 * (MikroORM's `?` placeholders: the SQL text here never holds a `?` of its own.)
 */
export interface SqlFragment {
  sql: string;
  params: unknown[];
}

/** Trusted SQL text (from the code, never from input). */
export function raw(text: string): SqlFragment {
  return { sql: text, params: [] };
}

/** One parameter; an array becomes a comma list (`ARRAY[${bind(ids)}]::uuid[]`). */
export function bind(value: unknown): SqlFragment {
  return { sql: '?', params: [value] };
}

export function sql(strings: TemplateStringsArray, ...parts: SqlFragment[]): SqlFragment {
  let text = strings[0]!;
  const params: unknown[] = [];
  parts.forEach((part, i) => {
    text += part.sql + strings[i + 1]!;
    params.push(...part.params);
  });
  return { sql: text, params };
}

export function join(parts: SqlFragment[], separator: string): SqlFragment {
  return { sql: parts.map((p) => p.sql).join(separator), params: parts.flatMap((p) => p.params) };
}
