import {
  ServerErrorResponseType,
  ServerToAgentSchema,
  create,
  type ServerToAgent,
} from '@cybercorp/protocol';

/**
 * A ServerToAgent that carries only an error_response (the spec wants every other field unset):
 * BAD_REQUEST for a malformed AgentToServer, UNAVAILABLE with retry_info when throttling.
 */
export function serverErrorReply(
  error:
    | { type: 'bad_request'; message: string }
    | { type: 'unavailable'; message: string; retryAfterMs: number },
  instanceUid: Uint8Array = new Uint8Array(0),
): ServerToAgent {
  return create(ServerToAgentSchema, {
    instanceUid,
    errorResponse:
      error.type === 'bad_request'
        ? {
            type: ServerErrorResponseType.ServerErrorResponseType_BadRequest,
            errorMessage: error.message,
          }
        : {
            type: ServerErrorResponseType.ServerErrorResponseType_Unavailable,
            errorMessage: error.message,
            Details: {
              case: 'retryInfo',
              value: {
                retryAfterNanoseconds:
                  BigInt(Math.max(0, Math.ceil(error.retryAfterMs))) * 1_000_000n,
              },
            },
          },
  });
}
