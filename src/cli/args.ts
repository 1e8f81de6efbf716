import type { z } from 'zod';

/** A command's arguments checked against `schema`; on a problem each is printed (`field: message`) and the result is null (exit 2). */
export function checkedArgs<S extends z.ZodType>(schema: S, raw: unknown): z.infer<S> | null {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) console.error(`${String(issue.path[0])}: ${issue.message}`);
  return null;
}
