import type { ConsoleSection } from './console-context.ts';
import { invitationsSection } from './pages/invitations.page.ts';
import { membersSection } from './pages/members.page.ts';
import { apiKeysSection } from './pages/api-keys.page.ts';
import { workspacesSection } from './pages/workspaces.page.ts';
import { auditSection } from './pages/audit.page.ts';
import { billingSection } from './pages/billing.page.ts';
import { rolesSection } from './pages/roles.page.ts';
import { teamsSection } from './pages/teams.page.ts';
import { setupLinksSection } from './pages/setup-links.page.ts';
import { ssoSection } from './pages/sso.page.ts';
import { domainsSection } from './pages/domains.page.ts';
import { directoriesSection } from './pages/directories.page.ts';

/** The console's org pages, in nav order. Each section is one file under pages/. */
export const consoleSections: readonly ConsoleSection[] = [
  membersSection,
  invitationsSection,
  rolesSection,
  teamsSection,
  apiKeysSection,
  workspacesSection,
  ssoSection,
  domainsSection,
  directoriesSection,
  auditSection,
  billingSection,
  setupLinksSection,
];
