import type { Context } from 'koa';
import type { ApiProblem } from '../console-api.ts';
import type { ConsoleRequest } from '../console-context.ts';
import { html, type VNode } from '../view.ts';

// What several people pages read from the management API: the org's members (for "invited by"
// and team pickers) and its roles with the ones this caller may grant.

export interface OrgMember {
  userId: string;
  email: string;
  name: string | null;
  role: string;
}

export interface OrgRole {
  key: string;
  name: string;
  description: string | null;
  permissions: string[];
  builtin: boolean;
}

// A picker of thousands helps nobody; past this the console shows what it has read.
const pagesRead = 5;

/** Up to 1,000 items of a paged list (five API pages of 200). */
export async function readPages<T>(c: ConsoleRequest, path: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < pagesRead; i += 1) {
    const page = await c.api.get<{ data: T[]; nextCursor: string | null }>(path, { limit: '200', cursor });
    items.push(...page.data);
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  return items;
}

export function orgMembers(c: ConsoleRequest): Promise<OrgMember[]> {
  return readPages<OrgMember>(c, `/orgs/${c.orgId}/members`);
}

export async function orgRoles(c: ConsoleRequest): Promise<OrgRole[]> {
  return (await c.api.get<{ data: OrgRole[] }>(`/orgs/${c.orgId}/roles`)).data;
}

/**
 * The roles this caller may hand out: never owner (ownership moves by transfer), and none holding
 * a permission the caller lacks. Only what to offer: the API applies the same rule and refuses.
 */
export function grantable(roles: OrgRole[], c: ConsoleRequest): OrgRole[] {
  const held = new Set(c.session.permissions);
  return roles.filter((r) => r.key !== 'owner' && r.permissions.every((p) => held.has(p)));
}

/** A person as the pages show them: the name with the email under it, or the email alone. */
export function personCell(p: { name: string | null; email: string }): VNode | string {
  return p.name ? html`<span>${p.name}</span><br /><small>${p.email}</small>` : p.email;
}

/** A repeated form field (checkboxes) as its string values. */
export function formList(ctx: Context, name: string): string[] {
  const value = (ctx.request.body as Record<string, unknown> | undefined)?.[name];
  const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return values.filter((v): v is string => typeof v === 'string');
}

/** A refusal shown above a form that is rendered again with what was typed, with each field's fault. */
export function formError(problem: ApiProblem | undefined): VNode | null {
  if (!problem) return null;
  return html`<div class="flash error" role="alert">
    <p>${problem.message}</p>
    ${problem.errors.length ? html`<ul>${problem.errors.map((e) => html`<li>${e.field.replace(/^body\./, '')}: ${e.message}</li>`)}</ul>` : null}
  </div>`;
}
