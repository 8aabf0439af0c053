/**
 * The role and permission names callers see (`GET /me`, `POST /users`, service tokens). Which
 * role holds which permission is the control API's own table.
 */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
  'agents:read',
  'processes:read',
  'windows:read',
  'audit:read',
  'processes:signal',
  'windows:control',
  'agents:admin',
  'users:admin',
  'tokens:admin',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** A service token acts for an integration and is never admin. */
export const SERVICE_TOKEN_ROLES = ['viewer', 'operator'] as const satisfies readonly Role[];
export type ServiceTokenRole = (typeof SERVICE_TOKEN_ROLES)[number];
