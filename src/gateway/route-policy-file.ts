import type { Logger } from 'pino';
import type { ProductPermissions } from '../modules/roles/product-permissions.ts';
import type { RouteDecision } from './gateway-principal.ts';

// STUB (helper "policy" replaces this file): GATEHOUSE_ROUTES, parsed, watched and reloaded; the
// last good policy stays in force when a change is bad.
export class RoutePolicyFile implements ProductPermissions {
  /** Reads and parses the file; a bad file at start-up throws (with line numbers). */
  static async open(_path: string, _logger: Logger): Promise<RoutePolicyFile> {
    throw new Error('not implemented');
  }

  get declared(): ReadonlySet<string> {
    throw new Error('not implemented');
  }

  ofBuiltinRole(_role: string): readonly string[] {
    throw new Error('not implemented');
  }

  /** The decision of the policy in force; null when no route matches (denied). */
  match(_method: string, _path: string): RouteDecision | null {
    throw new Error('not implemented');
  }

  close(): void {}
}
