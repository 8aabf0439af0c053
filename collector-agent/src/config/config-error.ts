export class ConfigError extends Error {
  readonly code = 'invalid_config';
}
