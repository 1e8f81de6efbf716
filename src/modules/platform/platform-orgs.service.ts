import { X509Certificate } from 'node:crypto';
import type { Page } from '../../http/pagination.ts';
import { toPage } from '../../http/pagination.ts';
import { billedPlan } from '../billing/entitlements.ts';
import type { PlanDeps } from '../billing/plan-gate.ts';
import { PlatformOrgsRepository, type PlatformOrgQuery, type PlatformOrgRow } from './platform-orgs.repository.ts';

// The platform operators' overview (issue 8 item 5): per org, what the platform team needs to
// see whether it is healthy, and nothing an org keeps to itself.

export interface PlatformOrgView {
  id: string;
  name: string;
  slug: string;
  createdAt: Date;
  plan: string;
  billingStatus: string;
  members: number;
  pendingInvitations: number;
  sso: { connections: number; disabled: number; disabledByPlan: number; certificateExpiresAt: Date | null };
  scim: { directories: number; lastSyncAt: Date | null };
}

/** The earliest end of the IdP certificates; null without any. */
function earliestExpiry(pems: readonly string[]): Date | null {
  let earliest: Date | null = null;
  for (const pem of pems) {
    let notAfter: Date;
    try {
      notAfter = new Date(new X509Certificate(pem).validTo);
    } catch {
      continue; // stored certificates were parsed on input; one that no longer parses must not hide every org
    }
    if (!earliest || notAfter < earliest) earliest = notAfter;
  }
  return earliest;
}

function view(row: PlatformOrgRow, deps: PlanDeps, now: Date): PlatformOrgView {
  // As entitlementsOf decides for one org: billing off, the configured default plan for all.
  const billing = row.billing_plan && row.billing_status ? { plan: row.billing_plan, status: row.billing_status, grace_until: row.grace_until } : null;
  const plan = deps.billing ? billedPlan(billing, deps.plans, now) : deps.plans.selfHosted;
  return {
    id: row.id,
    name: row.name,
    slug: row.slug,
    createdAt: row.created_at,
    plan: plan.key,
    billingStatus: row.billing_status ?? 'none',
    members: row.members,
    pendingInvitations: row.pending_invitations,
    sso: {
      connections: row.sso_connections,
      disabled: row.sso_inactive,
      disabledByPlan: row.sso_plan_disabled,
      certificateExpiresAt: earliestExpiry(row.idp_certificates),
    },
    scim: { directories: row.directories, lastSyncAt: row.scim_last_change_at },
  };
}

export async function listPlatformOrgs(repo: PlatformOrgsRepository, deps: PlanDeps, query: PlatformOrgQuery): Promise<Page<PlatformOrgView>> {
  const rows = await repo.page(query);
  const now = new Date();
  return toPage(rows, query.limit, (row) => row.id, (row) => view(row, deps, now));
}
