export { startTelemetry, startAgentTelemetry } from './agent-telemetry.js';
export { exportIntervalFromEnv, DEFAULT_EXPORT_INTERVAL_MILLIS } from './telemetry.js';
export type { Telemetry, TelemetryOptions } from './telemetry.js';
export type { TelemetryLogger } from './telemetry-logger.js';
export { ConfigError } from '../config/config-error.js';
