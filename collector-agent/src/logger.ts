/**
 * The agent logs through the setup it shares with the control API (`@cybercorp/logging`): JSON
 * lines on stderr, and in LOG_FILE when set, configured by LOG_LEVEL and LOG_DEBUG_SAMPLE.
 * Errors go under `err`; secrets are redacted by key, but callers still pass none.
 */
export {
  createLogger,
  logSettingsFromEnv,
  openLogger,
  silentLogger,
  type LogFields,
  type Logger,
  type LogLevel,
  type LogSettings,
  type OpenLogger,
} from '@cybercorp/logging';
