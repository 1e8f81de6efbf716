import type { ConsoleSection } from './console-context.ts';
import { membersSection } from './pages/members.page.ts';
import { setupLinksSection } from './pages/setup-links.page.ts';

/** The console's org pages, in nav order. Each section is one file under pages/. */
export const consoleSections: readonly ConsoleSection[] = [
  membersSection,
  setupLinksSection,
];
