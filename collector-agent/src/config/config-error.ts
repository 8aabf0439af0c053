/**
 * A setting with a value the agent cannot use: in the config file, a telemetry option or an
 * environment variable. The one error type for all of them, with one stable code.
 */
export class ConfigError extends Error {
  readonly code = 'invalid_config';

  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
