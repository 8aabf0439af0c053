import express, { type RequestHandler } from 'express';
import { bearerToken } from '../auth/bearer.js';
import type { Logger } from '../infra/logger.js';
import { ApiError } from '../infra/problem.js';
import type { MetricHistory } from '../services/metric-history.js';
import type { ServiceTokenService } from '../services/service-token-service.js';
import type { MetricBatch } from './metric-batch.js';
import { decodeMetricsJson } from './otlp-json.js';
import { decodeMetricsRequest, encodeMetricsResponse } from './otlp-protobuf.js';
import { MalformedProtobufError } from './protobuf-reader.js';

/** The OTLP/HTTP metrics path (the same as the Collector's own receiver). */
export const OTLP_METRICS_PATH = '/v1/metrics';
/**
 * The largest export accepted, after gzip is undone (body-parser counts inflated bytes, so a
 * small compressed bomb is refused as 413 too). The Collector's batch of 8192 points is ~1 MB.
 */
export const MAX_OTLP_BODY_BYTES = 16 * 1024 * 1024;

const PROTOBUF = 'application/x-protobuf';
const JSON_TYPE = 'application/json';

export interface OtlpEndpointDeps {
  serviceTokens: Pick<ServiceTokenService, 'authenticateIngest'>;
  history: Pick<MetricHistory, 'ingest'>;
  logger: Logger;
}

/**
 * OTLP/HTTP metrics ingest into the history store (https://opentelemetry.io/docs/specs/otlp/):
 * protobuf or JSON, gzip or not, authenticated by a service token of role `ingest`. Success is
 * 200 with an ExportMetricsServiceResponse in the request's encoding, carrying partial success
 * (how many points were refused, and why); errors are problem+json with a stable code: 400
 * malformed_otlp is not retried by exporters, 503 database_unavailable is.
 */
export function otlpMetricsHandlers(deps: OtlpEndpointDeps): RequestHandler[] {
  const authenticate: RequestHandler = (req, _res, next) => {
    const token = bearerToken(req.headers.authorization);
    if (!token) {
      next(new ApiError('unauthorized', 'a service token of role ingest is required'));
      return;
    }
    deps.serviceTokens.authenticateIngest(token).then(() => next(), next);
  };
  const mediaType: RequestHandler = (req, _res, next) => {
    if (req.is(PROTOBUF) || req.is(JSON_TYPE)) next();
    else next(new ApiError('unsupported_media_type', `send ${PROTOBUF} or ${JSON_TYPE}`));
  };
  const body = express.raw({ type: () => true, limit: MAX_OTLP_BODY_BYTES, inflate: true });
  const ingest: RequestHandler = (req, res, next) => {
    const asJson = req.is(JSON_TYPE) !== false;
    let batch: MetricBatch;
    try {
      // body-parser leaves {} for a request without a body.
      const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      batch = decode(bytes, asJson);
    } catch (error) {
      next(error);
      return;
    }
    deps.history.ingest(batch).then((result) => {
      if (result.rejected > 0) {
        deps.logger.debug('otlp points refused', {
          rejected: result.rejected,
          reason: result.message,
        });
      }
      if (asJson) {
        const partialSuccess =
          result.rejected > 0
            ? { rejectedDataPoints: String(result.rejected), errorMessage: result.message }
            : undefined;
        res.status(200).json(partialSuccess ? { partialSuccess } : {});
      } else {
        res
          .status(200)
          .type(PROTOBUF)
          .send(Buffer.from(encodeMetricsResponse(result.rejected, result.message)));
      }
    }, next);
  };
  return [authenticate, mediaType, body, ingest];
}

function decode(body: Buffer, asJson: boolean): MetricBatch {
  try {
    if (!asJson) return decodeMetricsRequest(body);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new MalformedProtobufError('the body is not valid JSON');
    }
    return decodeMetricsJson(parsed);
  } catch (error) {
    if (error instanceof MalformedProtobufError) {
      throw new ApiError('malformed_otlp', `not an OTLP metrics export: ${error.message}`);
    }
    throw error;
  }
}
