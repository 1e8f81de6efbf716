// Shared pieces of the SQL migrations.

/** A script as statements, one per `addSql`: PGlite (extended protocol) refuses several in one. */
export function statements(script: string): string[] {
  return script.split(/;\s*\n/).map((s) => s.trim()).filter(Boolean);
}

/**
 * Tenancy lock 4 for one org-owned table (DESIGN.md): row-level security enabled and forced, the
 * app role limited to the transaction's org, and, where the issuer or the authenticator must
 * find a row by a key that names no org, a read-only policy for the platform role.
 */
export function orgTableSecurity(table: string, opts: { platformRead: boolean }): string[] {
  return [
    `ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`,
    `ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`,
    `CREATE POLICY org_isolation ON ${table} TO gatehouse_app
       USING (org_id = gatehouse_current_org()) WITH CHECK (org_id = gatehouse_current_org())`,
    ...(opts.platformRead
      ? [`GRANT SELECT ON ${table} TO gatehouse_platform`, `CREATE POLICY platform_read ON ${table} FOR SELECT TO gatehouse_platform USING (true)`]
      : []),
  ];
}
