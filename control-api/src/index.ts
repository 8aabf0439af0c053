export { startControlApi, type ControlApi } from './server.js';
export {
  resolveConfig,
  type ControlApiOptions,
  type Config,
  type TlsMinVersion,
  type TlsSettings,
} from './config.js';
export type { TlsReloadOutcome, TlsReloadTrigger } from './infra/tls-context.js';
export { buildApp, type AppDeps } from './app.js';
export {
  PERMISSION_ROLES,
  ROLES,
  permissionsOf,
  type Permission,
  type Role,
} from './auth/permissions.js';
