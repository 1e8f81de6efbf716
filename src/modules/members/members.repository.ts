import { LockMode } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/sql';
import { v7 as uuidv7 } from 'uuid';
import { toDate } from '../../db/rows.ts';
import { Membership, type MembershipSource } from './membership.entity.ts';

export interface MemberRow {
  id: string;
  user_id: string;
  email: string;
  name: string | null;
  role: string;
  source: MembershipSource;
  created_at: Date;
  updated_at: Date;
}

export class MembersRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  /** One page of members with their user, in membership order (ids are time-ordered v7). */
  async listPage(orgId: string, limit: number, after: string | undefined, filter: { role?: string } = {}): Promise<MemberRow[]> {
    const where = ['m.org_id = ?'];
    const params: unknown[] = [orgId];
    if (after) {
      where.push('m.id > ?');
      params.push(after);
    }
    if (filter.role) {
      where.push('m.role = ?');
      params.push(filter.role);
    }
    params.push(limit + 1);
    const rows = await this.#em.execute<MemberRow[]>(
      `SELECT m.id, m.user_id, u.email, u.name, m.role, m.source, m.created_at, m.updated_at
         FROM memberships m JOIN users u ON u.id = m.user_id
        WHERE ${where.join(' AND ')}
        ORDER BY m.id LIMIT ?`,
      params,
    );
    return rows.map((r) => ({ ...r, created_at: toDate(r.created_at), updated_at: toDate(r.updated_at) }));
  }

  findByUser(userId: string): Promise<Membership | null> {
    return this.#em.findOne(Membership, { userId });
  }

  /**
   * A membership locked until the transaction ends: a change that depends on the member's role
   * (demote, remove, transfer) must not race another change of that role.
   */
  lockByUser(userId: string): Promise<Membership | null> {
    return this.#em.findOne(Membership, { userId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  }

  lockOwner(): Promise<Membership | null> {
    return this.#em.findOne(Membership, { role: 'owner' }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  }

  async create(input: { orgId: string; userId: string; role: string; source: MembershipSource }): Promise<Membership> {
    const membership = this.#em.create(Membership, { id: uuidv7(), ...input });
    await this.#em.flush();
    return membership;
  }

  async save(): Promise<void> {
    await this.#em.flush();
  }

  async delete(membership: Membership): Promise<void> {
    this.#em.remove(membership);
    await this.#em.flush();
  }
}
