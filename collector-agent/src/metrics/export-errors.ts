/**
 * gRPC status codes the OTLP specification lets a client retry (CANCELLED, DEADLINE_EXCEEDED,
 * RESOURCE_EXHAUSTED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS). The Collector answers
 * UNAVAILABLE when its memory limiter refuses data, and INVALID_ARGUMENT for a request it can
 * never accept.
 */
const RETRYABLE_GRPC_CODES: ReadonlySet<number> = new Set([1, 4, 8, 10, 11, 14, 15]);

function isGrpcStatusError(error: unknown): error is Error & { code: number } {
  return (
    error instanceof Error &&
    typeof (error as { code?: unknown }).code === 'number' &&
    'metadata' in error &&
    'details' in error
  );
}

/**
 * Whether an export failure means the Collector answered and refused this batch for good (it
 * is dropped and counted), as opposed to not being reached or asking to be tried later (the
 * batch is kept). Only a gRPC status from the server can be permanent: a local error (no
 * connection, the exporter's concurrency limit) says nothing about the batch.
 */
export function isPermanentExportError(error: unknown): boolean {
  return isGrpcStatusError(error) && !RETRYABLE_GRPC_CODES.has(error.code);
}
