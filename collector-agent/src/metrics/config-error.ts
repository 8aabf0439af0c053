/** A telemetry setting (option or environment variable) with a value the agent cannot use. */
export class MetricsConfigError extends Error {
  readonly code = 'invalid_config';

  constructor(message: string) {
    super(message);
    this.name = 'MetricsConfigError';
  }
}

export function requireCount(what: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new MetricsConfigError(`${what} must be an integer ≥ ${min}, got ${value}`);
  }
  return value;
}
