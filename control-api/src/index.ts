export { startControlApi, type ControlApi } from './server.js';
export { resolveConfig, type ControlApiOptions, type Config } from './config.js';
export { buildApp, type AppDeps } from './app.js';
export {
  PERMISSION_ROLES,
  ROLES,
  permissionsOf,
  type Permission,
  type Role,
} from './auth/permissions.js';
