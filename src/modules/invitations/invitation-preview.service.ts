import type { Database } from '../../db/database.ts';
import { ConflictError, GoneError, NotFoundError } from '../../errors.ts';
import { OrgsRepository } from '../orgs/orgs.repository.ts';
import type { PlatformRepository } from '../platform/platform.repository.ts';
import { RolesRepository } from '../roles/roles.repository.ts';
import { UsersRepository } from '../users/users.repository.ts';
import { hashInvitationToken, isInvitationToken } from './invitation-token.ts';
import { InvitationsRepository } from './invitations.repository.ts';
import { effectiveStatus } from './invitations.service.ts';

export interface InvitationPreview {
  orgName: string;
  /** The role's name (a custom role's display name, a built-in role's key). */
  role: string;
  email: string;
  /** Whether accepting creates an account (`none`) or proves an existing one's password. */
  account: 'none' | 'password';
}

/**
 * What the accept page shows for a token: the org, the role and the invited email, and which
 * form to offer. Anyone holding the link may see this (the invitee, and the inviter who was
 * shown it). A token that cannot be accepted throws what accepting it would.
 */
export async function previewInvitation(deps: { db: Database; platform: PlatformRepository }, token: string): Promise<InvitationPreview> {
  const tokenHash = isInvitationToken(token) ? hashInvitationToken(token) : null;
  const found = tokenHash ? await deps.platform.findInvitationByTokenHash(tokenHash) : null;
  if (!tokenHash || !found) throw new NotFoundError('invitation.not_found', 'This invitation link is not valid. Check that you opened the whole link from the invitation mail.');
  return deps.db.inOrg(found.org_id, async (em) => {
    // The look-up accept uses (it locks the row for this short read-only transaction).
    const invitation = await new InvitationsRepository(em).findForUpdate(found.id);
    if (!invitation || invitation.tokenHash !== tokenHash) throw new NotFoundError('invitation.not_found', 'This invitation link is not valid.');
    switch (effectiveStatus(invitation)) {
      case 'accepted': throw new GoneError('invitation.already_accepted', 'This invitation has already been accepted.');
      case 'cancelled': throw new GoneError('invitation.cancelled', 'This invitation was cancelled. Ask the organization for a new one.');
      case 'expired': throw new GoneError('invitation.expired', 'This invitation has expired. Ask the organization for a new one.');
      case 'pending': break;
    }
    const org = await new OrgsRepository(em).find(found.org_id);
    if (!org) throw new NotFoundError('invitation.not_found', 'This invitation link is not valid.');
    const role = await new RolesRepository(em).findByKey(invitation.role);
    const user = await new UsersRepository(em).findByEmail(invitation.email);
    if (user && !user.passwordHash) {
      // The same refusal accepting gives: an SSO-only account cannot prove itself with a password.
      throw new ConflictError('invitation.sign_in_required',
        'This email belongs to an account that signs in through single sign-on, without a password. Accepting such an invitation by signing in is not available yet; ask the organization to add you instead.');
    }
    return { orgName: org.name, role: role?.name ?? invitation.role, email: invitation.email, account: user ? 'password' : 'none' };
  });
}
