/**
 * A failed call to the control API, carrying the problem+json `code` and `detail` so pages can
 * show the reason plainly and branch on the code (e.g. `protected_process`).
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly title?: string,
  ) {
    super(detail);
  }
}

interface ErrorLike {
  status?: unknown;
  statusText?: unknown;
  data?: unknown;
  message?: unknown;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * Grafana's backend service rejects with `{status, statusText, data}`. `data` is the control
 * API's problem+json body, or Grafana's own `{message}` when the proxy itself refused (role check,
 * plugin not configured, API unreachable). Anything else is a network-level failure.
 */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) {
    return error;
  }
  const e = (typeof error === 'object' && error !== null ? error : {}) as ErrorLike;
  const status = typeof e.status === 'number' ? e.status : 0;
  const body = (typeof e.data === 'object' && e.data !== null ? e.data : {}) as Record<
    string,
    unknown
  >;
  const code = text(body.code) ?? (status > 0 ? `http_${status}` : 'network_error');
  const detail =
    text(body.detail) ??
    text(body.message) ??
    text(body.title) ??
    text(e.statusText) ??
    text(e.message) ??
    (status > 0 ? `Request failed with status ${status}` : 'The control API could not be reached');
  return new ApiError(status, code, detail, text(body.title));
}
