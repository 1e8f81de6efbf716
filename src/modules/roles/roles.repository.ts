import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/sql';
import { v7 as uuidv7 } from 'uuid';
import { ApiKey } from '../api-keys/api-key.entity.ts';
import { Invitation } from '../invitations/invitation.entity.ts';
import { Membership } from '../members/membership.entity.ts';
import { Role } from './role.entity.ts';

export interface RoleUses {
  members: number;
  apiKeys: number;
  invitations: number;
  /** SSO connections and SCIM directories that give the role (default role or group rule). */
  provisioning: number;
}

export class RolesRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  list(): Promise<Role[]> {
    return this.#em.find(Role, {}, { orderBy: { key: 'asc' } });
  }

  findByKey(key: string): Promise<Role | null> {
    return this.#em.findOne(Role, { key });
  }

  async create(input: { orgId: string; key: string; name: string; description: string | null; permissions: string[] }): Promise<Role> {
    const role = this.#em.create(Role, { id: uuidv7(), ...input });
    await this.#em.flush();
    return role;
  }

  async save(): Promise<void> {
    await this.#em.flush();
  }

  async delete(role: Role): Promise<void> {
    this.#em.remove(role);
    await this.#em.flush();
  }

  /** The role locked until the transaction ends, so two edits or an edit and a delete serialize. */
  lockByKey(key: string): Promise<Role | null> {
    return this.#em.findOne(Role, { key }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  }

  /**
   * What still acts with a role: members holding it, API keys that can still authenticate
   * (revoked or expired ones cannot), and pending invitations that would grant it on accept.
   */
  async usesOf(key: string): Promise<RoleUses> {
    const members = await this.#em.count(Membership, { role: key });
    const apiKeys = await this.#em.count(ApiKey, {
      role: key,
      revokedAt: null,
      $or: [{ expiresAt: null }, { expiresAt: { $gt: new Date() } }],
    });
    const invitations = await this.#em.count(Invitation, { role: key, status: 'pending', expiresAt: { $gt: new Date() } });
    const [{ provisioning }] = await this.#em.execute<[{ provisioning: string }]>(
      `SELECT (SELECT count(*) FROM connections WHERE default_role = ?)
            + (SELECT count(*) FROM directories WHERE default_role = ?)
            + (SELECT count(*) FROM directory_group_rules WHERE role = ?) AS provisioning`, [key, key, key]);
    return { members, apiKeys, invitations, provisioning: Number(provisioning) };
  }
}
