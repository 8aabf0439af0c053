/** Largest OpAMP message accepted on either transport; bigger WebSocket frames close with 1009. */
export const MAX_OPAMP_MESSAGE_BYTES = 1024 * 1024;

export const CLOSE_NORMAL = 1000;
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_PROTOCOL_ERROR = 1002;
export const CLOSE_UNSUPPORTED_DATA = 1003;
export const CLOSE_POLICY_VIOLATION = 1008;
export const CLOSE_INTERNAL_ERROR = 1011;
/**
 * The server is stopping or restarting (RFC 6455 registry: "Service Restart"): the agent should
 * come back soon, through whichever instance the gateway gives it, after a short jitter.
 */
export const CLOSE_SERVICE_RESTART = 1012;
/** Application codes (4000–4999 are free for applications). */
export const CLOSE_REPLACED = 4000;
export const CLOSE_HEARTBEAT_TIMEOUT = 4001;
