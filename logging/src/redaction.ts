/** What a redacted value reads as. */
export const REDACTED = '[redacted]';

/** Keys whose values are secrets wherever a caller puts them (top level or one object down). */
const SECRET_KEYS = [
  'authorization',
  'cookie',
  'password',
  'newPassword',
  'adminPassword',
  'token',
  'accessToken',
  'refreshToken',
  'agentToken',
  'serviceToken',
  'secret',
  'databaseUrl',
  'redisUrl',
  'CYBERCORP_AGENT_TOKEN',
  'CYBERCORP_ADMIN_PASSWORD',
  'DATABASE_URL',
  'REDIS_URL',
];

/**
 * pino `redact` paths: the secret keys at the top of a line and one level down (`*.key`, which
 * also covers a `headers` field), and the headers pino-http logs with each request
 * (`req.headers.*`) and any response cookie.
 */
export const REDACT_PATHS: readonly string[] = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((key) => `*.${key}`),
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
];
