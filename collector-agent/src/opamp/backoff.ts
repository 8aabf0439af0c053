/**
 * Reconnect delays: exponential backoff with full jitter (a uniformly random delay up to the
 * exponential bound), so a fleet that lost its server does not reconnect in lockstep.
 */
export interface BackoffOptions {
  baseMs: number;
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 30_000 };

/** A server-supplied Retry-After is honoured but bounded, so a bad value cannot park the agent. */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;

export function backoffCeiling(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  const exponent = Math.min(Math.max(attempt, 0), 30);
  return Math.min(options.capMs, options.baseMs * 2 ** exponent);
}

export function backoffDelay(
  attempt: number,
  random: () => number = Math.random,
  options: BackoffOptions = DEFAULT_BACKOFF,
): number {
  return Math.floor(random() * backoffCeiling(attempt, options));
}

/** The delay before the next attempt: the server's wish when it stated one, else the backoff. */
export function reconnectDelay(
  attempt: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
  options: BackoffOptions = DEFAULT_BACKOFF,
): number {
  const jittered = backoffDelay(attempt, random, options);
  if (retryAfterMs === undefined) return jittered;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(retryAfterMs, jittered));
}

/**
 * A server that closes with 1012 (service restart) or 1001 (going away) is stopping on purpose:
 * the others behind the same address can take the agent at once. The agent comes back after a
 * short jitter (so that all the agents of one instance do not land in the same millisecond), not
 * after the backoff of a failing server.
 */
export const SERVICE_RESTART_JITTER_MS = 1000;
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_SERVICE_RESTART = 1012;

export function isServiceRestart(closeCode: number | undefined): boolean {
  return closeCode === CLOSE_SERVICE_RESTART || closeCode === CLOSE_GOING_AWAY;
}

export function serviceRestartDelay(random: () => number = Math.random): number {
  return Math.floor(random() * SERVICE_RESTART_JITTER_MS);
}

/** HTTP Retry-After: delay-seconds or an HTTP-date. */
export function parseRetryAfter(
  value: string | undefined,
  nowMs: number = Date.now(),
): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}
