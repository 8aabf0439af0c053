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

/**
 * A service token acts for an integration and is never admin: `viewer` and `operator` call the
 * REST API with that role (the Grafana plugin proxy); `ingest` may only send OTLP metrics to
 * `POST /v1/metrics` (the Collector's history pipeline) and is refused everywhere else.
 */
export const SERVICE_TOKEN_ROLES = ['viewer', 'operator', 'ingest'] as const;
export type ServiceTokenRole = (typeof SERVICE_TOKEN_ROLES)[number];
/** The service-token roles that are also REST roles. */
export const REST_SERVICE_TOKEN_ROLES = ['viewer', 'operator'] as const satisfies readonly (Role &
  ServiceTokenRole)[];
export const INGEST_SERVICE_TOKEN_ROLE = 'ingest' satisfies ServiceTokenRole;
