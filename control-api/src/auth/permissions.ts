import { PERMISSIONS, ROLES, type Permission, type Role } from '@cybercorp/protocol';

export { PERMISSIONS, ROLES, type Permission, type Role };

/** The one permission table: which roles hold each permission. Routes name a permission. */
export const PERMISSION_ROLES = {
  'agents:read': ['viewer', 'operator', 'admin'],
  'processes:read': ['viewer', 'operator', 'admin'],
  'windows:read': ['viewer', 'operator', 'admin'],
  'audit:read': ['viewer', 'operator', 'admin'],
  'processes:signal': ['operator', 'admin'],
  'windows:control': ['operator', 'admin'],
  'agents:admin': ['admin'],
  'users:admin': ['admin'],
  'tokens:admin': ['admin'],
} as const satisfies Record<Permission, readonly Role[]>;

export function hasPermission(role: Role, permission: Permission): boolean {
  return (PERMISSION_ROLES[permission] as readonly Role[]).includes(role);
}

export function permissionsOf(role: Role): Permission[] {
  return PERMISSIONS.filter((p) => hasPermission(role, p));
}
