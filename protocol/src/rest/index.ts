/** The control API's REST shapes: requests are validated with them, the OpenAPI document is generated from them. */
export * from './roles.js';
export * from './problem.js';
export * from './auth.js';
export * from './users.js';
export * from './tokens.js';
export * from './agents.js';
export * from './processes.js';
export * from './windows.js';
export * from './commands.js';
export * from './audit.js';
export * from './history.js';
