export {
  createLogger,
  pinoOptions,
  silentLogger,
  type LogFields,
  type Logger,
  type LoggerOptions,
  type PinoBackedLogger,
} from './logger.js';
export { openLogger, type OpenLogger } from './open-logger.js';
export { LOG_FILE_MODE, openLogFile, type LogFileStream } from './log-file.js';
export { REDACT_PATHS, REDACTED } from './redaction.js';
export {
  DEFAULT_DEBUG_SAMPLE,
  DEFAULT_LOG_FILE_COUNT,
  LOG_LEVELS,
  LogSettingsError,
  logSettingsFromEnv,
  type LogFileSettings,
  type LogLevel,
  type LogSettings,
} from './settings.js';
export { LogThrottle } from './log-throttle.js';
