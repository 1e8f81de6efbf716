import { LockMode } from '@mikro-orm/core';
import type { EntityManager, FilterQuery } from '@mikro-orm/sql';
import { v7 as uuidv7 } from 'uuid';
import { Invitation, type InvitationStatus } from './invitation.entity.ts';

export interface NewInvitation {
  orgId: string;
  email: string;
  role: string;
  tokenHash: string;
  invitedBy: string | null;
  expiresAt: Date;
}

/**
 * A pending invitation past its expiry reads as expired; the stored status only flips when
 * something touches the row. Filters by status therefore look at both columns.
 */
function statusCondition(status: InvitationStatus, now: Date): FilterQuery<Invitation> {
  if (status === 'pending') return { status: 'pending', expiresAt: { $gt: now } };
  if (status === 'expired') return { $or: [{ status: 'expired' }, { status: 'pending', expiresAt: { $lte: now } }] };
  return { status };
}

export class InvitationsRepository {
  readonly #em: EntityManager;

  constructor(em: EntityManager) {
    this.#em = em;
  }

  /** One page in creation order (ids are time-ordered v7). */
  listPage(limit: number, after: string | undefined, filter: { status?: InvitationStatus } = {}, now = new Date()): Promise<Invitation[]> {
    const where: FilterQuery<Invitation>[] = [];
    if (after) where.push({ id: { $gt: after } });
    if (filter.status) where.push(statusCondition(filter.status, now));
    return this.#em.find(Invitation, where.length ? { $and: where } : {}, { orderBy: { id: 'asc' }, limit: limit + 1 });
  }

  /** Locks the row for the rest of the transaction, so two writers (say, accept and cancel) cannot both win. */
  findForUpdate(id: string): Promise<Invitation | null> {
    return this.#em.findOne(Invitation, { id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  }

  /** The one stored-pending invitation for an (already normalized) email, expired or not. */
  findPendingByEmail(email: string): Promise<Invitation | null> {
    return this.#em.findOne(Invitation, { email, status: 'pending' });
  }

  async create(input: NewInvitation): Promise<Invitation> {
    const invitation = this.#em.create(Invitation, { id: uuidv7(), ...input, status: 'pending', acceptedBy: null, acceptedAt: null });
    await this.#em.flush();
    return invitation;
  }

  async save(): Promise<void> {
    await this.#em.flush();
  }
}
