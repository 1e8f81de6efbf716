/**
 * Raw query results carry timestamps as text on node-postgres and as Date on PGlite (MikroORM
 * leaves both drivers' parsers alone); repositories turn them into Dates with this.
 */
export function toDate(value: Date | string): Date;
export function toDate(value: Date | string | null): Date | null;
export function toDate(value: Date | string | null): Date | null {
  if (value === null || value instanceof Date) return value;
  return new Date(value);
}
