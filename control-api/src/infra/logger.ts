/**
 * The control API logs through the setup it shares with the agent (`@cybercorp/logging`): JSON
 * lines on stderr (stdout stays free for the one-time bootstrap password notice), and in
 * LOG_FILE when set. Errors go under `err`; secrets are redacted by key, but callers pass none.
 */
export {
  createLogger,
  logSettingsFromEnv,
  LogSettingsError,
  openLogger,
  silentLogger,
  type LogFields,
  type Logger,
  type LogLevel,
  type LogSettings,
  type OpenLogger,
  type PinoBackedLogger,
} from '@cybercorp/logging';
