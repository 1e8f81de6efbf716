import { Connection } from '../modules/connections/connection.entity.ts';
import { Domain } from '../modules/domains/domain.entity.ts';
import { Directory } from '../modules/directories/directory.entity.ts';
import { ApiKey } from '../modules/api-keys/api-key.entity.ts';
import { AuditChainHead, AuditEvent } from '../modules/audit/audit-event.entity.ts';
import { Invitation } from '../modules/invitations/invitation.entity.ts';
import { OutboxMessage } from '../modules/mail/outbox-message.entity.ts';
import { Membership } from '../modules/members/membership.entity.ts';
import { Organization } from '../modules/orgs/organization.entity.ts';
import { Role } from '../modules/roles/role.entity.ts';
import { SetupLink } from '../modules/setup-links/setup-link.entity.ts';
import { ServiceAccount } from '../modules/service-accounts/service-account.entity.ts';
import { Team, TeamMember } from '../modules/teams/team.entity.ts';
import { User } from '../modules/users/user.entity.ts';
import { Workspace } from '../modules/workspaces/workspace.entity.ts';
import { OAuthClient } from '../oidc/oauth-client.entity.ts';

/** Entities that carry org_id: the org filter (tenancy lock 3) applies to each. */
export const orgEntities = [Membership, Role, Invitation, Team, TeamMember, ApiKey, AuditEvent, AuditChainHead, ServiceAccount, Connection, Domain, Directory, Workspace, SetupLink];

export const entities = [User, Organization, OutboxMessage, OAuthClient, ...orgEntities];
