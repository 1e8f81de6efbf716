import { permissionsOfRole } from './permissions.ts';

/**
 * The product's own permissions (the route policy's `permissions:` map, GATEHOUSE_ROUTES) and the
 * built-in roles that hold them. Custom roles may be granted any declared one through the
 * management API; the stored list then holds it. A live view: the policy file is reloaded on
 * change, and readers always see the policy in force.
 */
export interface ProductPermissions {
  /** Every product permission the policy in force declares. */
  readonly declared: ReadonlySet<string>;
  /** The product permissions a built-in role holds (none for any other role). */
  ofBuiltinRole(role: string): readonly string[];
}

/** When no route policy is configured: the product declares nothing. */
export const noProductPermissions: ProductPermissions = { declared: new Set(), ofBuiltinRole: () => [] };

/**
 * Everything a role holds now: a built-in role's Gatehouse permissions and the product
 * permissions the policy gives it; a custom role's stored list (which may hold both kinds).
 */
export function rolePermissions(role: string, customPermissions: readonly string[] | null, product: ProductPermissions): readonly string[] {
  const own = permissionsOfRole(role, customPermissions);
  const extra = product.ofBuiltinRole(role);
  return extra.length ? [...own, ...extra] : own;
}
