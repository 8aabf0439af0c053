/** The levels both processes log at; `silent` turns logging off (tests, library use). */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Without LOG_DEBUG_SAMPLE: the share of debug lines written while LOG_LEVEL is unset. */
export const DEFAULT_DEBUG_SAMPLE = 0.01;
/** Without LOG_FILE_COUNT: rotated daily files kept besides the current one. */
export const DEFAULT_LOG_FILE_COUNT = 30;

export interface LogFileSettings {
  /** LOG_FILE, e.g. /var/log/cybercorp/api.log → api.2025-06-01.1.log, rotated daily. */
  path: string;
  /** LOG_FILE_COUNT: rotated files kept besides the current one. */
  count: number;
}

export interface LogSettings {
  /** Lines below this level are never written. */
  level: LogLevel;
  /** The share of debug lines written (0–1), when `level` lets debug lines through. */
  debugSample: number;
  /** Also write to a daily-rotated file. */
  file?: LogFileSettings;
}

export class LogSettingsError extends Error {
  readonly code = 'invalid_config';
}

const isLevel = (value: string): value is LogLevel =>
  (LOG_LEVELS as readonly string[]).includes(value);

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === '' ? undefined : trimmed;
}

/**
 * LOG_LEVEL, LOG_DEBUG_SAMPLE, LOG_FILE and LOG_FILE_COUNT, shared by the agent and the API.
 * LOG_LEVEL unset means info and above plus a sample (LOG_DEBUG_SAMPLE, 1 %) of the debug lines;
 * LOG_LEVEL=debug, set to troubleshoot, writes every debug line unless LOG_DEBUG_SAMPLE says
 * otherwise. CYBERCORP_LOG_LEVEL, the former name, is read when LOG_LEVEL is unset.
 * `level` (an option of the caller) wins over the environment.
 */
export function logSettingsFromEnv(env: NodeJS.ProcessEnv, level?: LogLevel): LogSettings {
  const levelName = nonEmpty(env.LOG_LEVEL) !== undefined ? 'LOG_LEVEL' : 'CYBERCORP_LOG_LEVEL';
  const explicit = level ?? nonEmpty(env.LOG_LEVEL) ?? nonEmpty(env.CYBERCORP_LOG_LEVEL);
  if (explicit !== undefined && !isLevel(explicit)) {
    throw new LogSettingsError(
      `${levelName} must be one of ${LOG_LEVELS.join(', ')}, got ${explicit}`,
    );
  }
  const sample = nonEmpty(env.LOG_DEBUG_SAMPLE);
  let debugSample = explicit === 'debug' ? 1 : DEFAULT_DEBUG_SAMPLE;
  if (sample !== undefined) {
    debugSample = Number(sample);
    if (!Number.isFinite(debugSample) || debugSample < 0 || debugSample > 1) {
      throw new LogSettingsError(`LOG_DEBUG_SAMPLE must be a number from 0 to 1, got ${sample}`);
    }
  }
  const settings: LogSettings = { level: explicit ?? 'debug', debugSample };
  const path = nonEmpty(env.LOG_FILE);
  const countText = nonEmpty(env.LOG_FILE_COUNT);
  const count = countText === undefined ? DEFAULT_LOG_FILE_COUNT : Number(countText);
  if (!Number.isInteger(count) || count < 1 || count > 10_000) {
    throw new LogSettingsError(
      `LOG_FILE_COUNT must be an integer from 1 to 10000, got ${countText}`,
    );
  }
  if (path !== undefined) settings.file = { path, count };
  return settings;
}
