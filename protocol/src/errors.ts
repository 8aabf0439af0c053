/**
 * Stable error codes. They appear as `code` in the API's problem+json bodies and in the agent's
 * failed results; clients branch on them, so they never change meaning once published.
 */
export const ErrorCode = {
  BadRequest: 'bad_request',
  MalformedJson: 'malformed_json',
  ValidationFailed: 'validation_failed',
  UnknownAction: 'unknown_action',
  PayloadTooLarge: 'payload_too_large',
  UnsupportedMediaType: 'unsupported_media_type',
  /** An OTLP export (POST /v1/metrics) whose protobuf or JSON body does not decode. */
  MalformedOtlp: 'malformed_otlp',
  /** The request's headers are larger than the server accepts (Node's maxHeaderSize). */
  HeadersTooLarge: 'headers_too_large',
  Unauthorized: 'unauthorized',
  InvalidCredentials: 'invalid_credentials',
  TokenReused: 'token_reused',
  /** Too many login attempts for this username from this address (or in all); see Retry-After. */
  LockedOut: 'locked_out',
  /** Over the REST request rate of the caller (RATE_LIMIT_PER_MINUTE); see Retry-After. */
  RateLimited: 'rate_limited',
  Forbidden: 'forbidden',
  ProtectedProcess: 'protected_process',
  ControlDisabled: 'control_disabled',
  NotFound: 'not_found',
  MethodNotAllowed: 'method_not_allowed',
  NoSuchAgent: 'no_such_agent',
  NoSuchProcess: 'no_such_process',
  NoSuchWindow: 'no_such_window',
  NoSuchCommand: 'no_such_command',
  /** The pid now belongs to another process than the one the caller saw (pid reuse). */
  ProcessChanged: 'process_changed',
  Conflict: 'conflict',
  /** The change would leave no enabled admin (deleting, disabling or demoting the last one). */
  LastAdmin: 'last_admin',
  /** The current password given for a password change is not the caller's. */
  WrongPassword: 'wrong_password',
  /** The OpAMP instance uid belongs to another agent token than the one presented. */
  AgentIdentityConflict: 'agent_identity_conflict',
  /** The agent token already has as many agents as its `maxAgents` allows. */
  AgentLimitReached: 'agent_limit_reached',
  /** The agent is connected; only an offline agent can be decommissioned. */
  AgentOnline: 'agent_online',
  CapabilityMissing: 'capability_missing',
  DeadlineExceeded: 'deadline_exceeded',
  AgentOffline: 'agent_offline',
  AgentTimeout: 'agent_timeout',
  /**
   * The command was sent to the agent, whose connection ended before it answered: it may or may
   * not have been carried out (the command's recorded status is `unknown`). Not retried for you:
   * look at the target first.
   */
  OutcomeUnknown: 'outcome_unknown',
  /**
   * The command was not sent: the agent is not connected to the instance that took the request,
   * and Redis, through which instances find and reach each other's agents, is unreachable from it
   * (the command's recorded status is `offline`). Safe to retry, through this or another instance.
   */
  RelayUnavailable: 'relay_unavailable',
  ServiceUnavailable: 'service_unavailable',
  DatabaseUnavailable: 'database_unavailable',
  /** Redis, which holds what the instances share (presence, window snapshots), is unreachable. */
  RedisUnavailable: 'redis_unavailable',
  ActionFailed: 'action_failed',
  Internal: 'internal_error',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The HTTP status the control API answers with for each code. */
export const httpStatusOf: Record<ErrorCode, number> = {
  bad_request: 400,
  malformed_json: 400,
  validation_failed: 400,
  unknown_action: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  malformed_otlp: 400,
  headers_too_large: 431,
  unauthorized: 401,
  invalid_credentials: 401,
  token_reused: 401,
  locked_out: 429,
  rate_limited: 429,
  forbidden: 403,
  protected_process: 403,
  control_disabled: 403,
  not_found: 404,
  method_not_allowed: 405,
  no_such_agent: 404,
  no_such_process: 404,
  no_such_window: 404,
  no_such_command: 404,
  process_changed: 409,
  conflict: 409,
  last_admin: 409,
  wrong_password: 403,
  agent_identity_conflict: 409,
  agent_limit_reached: 409,
  agent_online: 409,
  capability_missing: 409,
  deadline_exceeded: 504,
  agent_offline: 503,
  agent_timeout: 504,
  // The gateway's upstream (the agent) closed its connection without an answer, as a proxy's 502
  // says; not 503 (agent_offline: never sent, safe to retry) nor 504 (no answer in time).
  outcome_unknown: 502,
  relay_unavailable: 503,
  service_unavailable: 503,
  database_unavailable: 503,
  redis_unavailable: 503,
  action_failed: 502,
  internal_error: 500,
};

/** Codes an agent may put in a failed `result`. */
export const AGENT_ERROR_CODES = [
  ErrorCode.ProtectedProcess,
  ErrorCode.ControlDisabled,
  ErrorCode.NoSuchProcess,
  ErrorCode.ProcessChanged,
  ErrorCode.NoSuchWindow,
  ErrorCode.DeadlineExceeded,
  ErrorCode.CapabilityMissing,
  ErrorCode.ValidationFailed,
  ErrorCode.ActionFailed,
] as const;
