import type { RequestMeta } from '../scope.ts';

// What the SCIM edge (scim/) and the directory-sync service agree on. scim/ speaks SCIM and
// turns it into these; the service and its repositories never see SCIM JSON except as the
// stored `resource` they keep opaque.

/** The directory a SCIM request acts for, established from its bearer token (never from the body). */
export interface DirectoryContext {
  directoryId: string;
  orgId: string;
  /** The role new members get, and the floor of every member's role when no group rule applies. */
  defaultRole: string;
  meta: RequestMeta;
}

/** RFC 7644 §3.4.2.2 comparison operators. */
export type CompareOp = 'eq' | 'ne' | 'co' | 'sw' | 'ew' | 'gt' | 'ge' | 'lt' | 'le' | 'pr';

export type AttributeType = 'string' | 'boolean' | 'dateTime' | 'integer' | 'decimal' | 'reference' | 'binary';

/** One comparison on one attribute, already checked against the schema. */
export interface FilterComparison {
  /**
   * The attribute by its canonical path: `userName`, `name.givenName`, `meta.lastModified`,
   * `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`,
   * `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`. Inside an
   * `element` condition, the sub-attribute's name alone (`value`, `type`).
   */
  path: string;
  op: CompareOp;
  not: boolean;
  /** Already of the attribute's type (a dateTime as an ISO string); undefined only for `pr`. */
  value?: string | number | boolean | null;
  type: AttributeType;
  /** False: compare case-insensitively (userName, emails.value, displayName...). */
  caseExact: boolean;
}

/**
 * Conditions on the sub-attributes of one multi-valued attribute that the same element must meet
 * together: `emails[type eq "work"].value eq "x"`, `members[value eq "id"]`, `emails.value co "@x"`.
 */
export interface ElementCondition {
  /** The multi-valued attribute: `emails`, `phoneNumbers`, `members`, `groups`... */
  multiValued: string;
  conditions: FilterComparison[];
}

export type FilterCondition = FilterComparison | ElementCondition;

/** A filter in disjunctive normal form: the terms are ORed, each term's conditions ANDed. */
export type DirectoryFilter = FilterCondition[][];

export interface ListQuery {
  filter: DirectoryFilter | null;
  /** 1-based (RFC 7644 §3.4.2.4). */
  startIndex: number;
  /** 0 asks for totalResults only. */
  count: number;
}

export interface Page<T> {
  totalResults: number;
  items: T[];
}

/** A user as the directory describes them. */
export interface DirectoryUserInput {
  /** As given; unique per directory regardless of case. */
  userName: string;
  externalId: string | null;
  /** Undefined when the IdP did not say: a new user is active, an existing one keeps their state. */
  active: boolean | undefined;
  displayName: string | null;
  givenName: string | null;
  familyName: string | null;
  /** The address the person signs in with (primary, else work, else first email), lower-cased. */
  email: string | null;
  /**
   * The whole SCIM resource as stored (schemas, name, emails with values lower-cased, the
   * enterprise extension...), without id, meta, groups or password. Opaque to the service.
   */
  resource: Record<string, unknown>;
}

export interface DirectoryUserRecord extends DirectoryUserInput {
  active: boolean;
  id: string;
  /** The Gatehouse user this directory user is linked to. */
  userId: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface GroupRef {
  id: string;
  displayName: string;
}

export interface MemberRef {
  /** A directory user id. */
  id: string;
  userName: string;
}

export interface DirectoryGroupInput {
  displayName: string;
  externalId: string | null;
}

export interface DirectoryGroupRecord extends DirectoryGroupInput {
  id: string;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

/** What a group PATCH changes: N named members cost N rows, whatever the group's size. */
export interface GroupChange {
  displayName?: string;
  externalId?: string | null;
  /** Directory user ids to add (already members: no-op). */
  addMembers: string[];
  /** Directory user ids to remove (not members: no-op). */
  removeMembers: string[];
  /** `remove` of `members` with no filter: every member goes (before `addMembers` apply). */
  removeAllMembers: boolean;
}
