import { ApiError } from '../infra/problem.js';

/**
 * The header naming the Grafana user on whose behalf a service token calls: Grafana's plugin
 * proxy sends it (`[dataproxy] send_user_header = true`). Node exposes header names lowercased.
 */
export const GRAFANA_USER_HEADER = 'x-grafana-user';
export const MAX_GRAFANA_USER_LENGTH = 100;

/** Letters, marks, numbers, punctuation, symbols and spaces; no control or format characters. */
const PRINTABLE = /^[^\p{C}\p{Zl}\p{Zp}]+$/u;

function invalid(message: string): ApiError {
  return new ApiError('validation_failed', `header ${GRAFANA_USER_HEADER}: ${message}`, {
    errors: [{ in: 'header', path: [GRAFANA_USER_HEADER], message }],
  });
}

/**
 * The Grafana user a service-token request names, or undefined when the header is absent.
 * Node hands header values over as latin1; Grafana sends logins as UTF-8 bytes, so they are
 * decoded back, and bytes that are not UTF-8 are refused rather than recorded garbled.
 */
export function parseGrafanaUser(values: readonly string[] | undefined): string | undefined {
  if (values === undefined || values.length === 0) return undefined;
  if (values.length > 1) throw invalid('must be sent once');
  const raw = values[0]!;
  const bytes = Buffer.from(raw, 'latin1');
  const text = bytes.toString('utf8');
  if (!Buffer.from(text, 'utf8').equals(bytes)) throw invalid('must be UTF-8');
  const length = [...text].length;
  if (length === 0) throw invalid('must not be empty');
  if (length > MAX_GRAFANA_USER_LENGTH) {
    throw invalid(`must be at most ${MAX_GRAFANA_USER_LENGTH} characters`);
  }
  if (!PRINTABLE.test(text)) throw invalid('must contain printable characters only');
  return text;
}

/** The audit actor of a service-token request: `grafana:alice via service token ops`. */
export function serviceTokenActor(tokenName: string, grafanaUser: string | undefined): string {
  const token = `service token ${tokenName}`;
  return grafanaUser === undefined ? token : `grafana:${grafanaUser} via ${token}`;
}
