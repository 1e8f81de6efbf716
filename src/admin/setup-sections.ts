import type { ConsoleSection } from './console-context.ts';
import { directoriesSection } from './pages/directories.page.ts';
import { domainsSection } from './pages/domains.page.ts';
import { ssoSection } from './pages/sso.page.ts';

/**
 * The console sections a setup link reaches, by scope (setup-portal.routes.ts). Each is the
 * console's own section, rendered under /admin/setup with the link as the API credential.
 */
export interface SetupSections {
  sso: readonly ConsoleSection[];
  scim: readonly ConsoleSection[];
}

export const setupSections: SetupSections = {
  sso: [ssoSection, domainsSection],
  scim: [directoriesSection],
};
