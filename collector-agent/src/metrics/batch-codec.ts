import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';

/**
 * One export batch as bytes for the offline buffer: JSON of the SDK's own ResourceMetrics (the
 * OTLP exporter serializes only on its way out and has no decoder), so a replayed batch goes
 * through the same exporter with its original timestamps. Its length is the size the buffer's
 * bound counts.
 */
const FORMAT_VERSION = 1;

interface EncodedBatch {
  v: number;
  resource: { attributes: Record<string, unknown>; schemaUrl?: string };
  scopeMetrics: ResourceMetrics['scopeMetrics'];
}

/** A buffered batch that cannot be read back (a truncated or foreign spool file). */
export class BatchDecodeError extends Error {
  readonly code = 'buffer_batch_unreadable';

  constructor(message: string) {
    super(message);
    this.name = 'BatchDecodeError';
  }
}

const NON_FINITE = '$nonFinite';
const NON_FINITE_KEY = Buffer.from(`"${NON_FINITE}"`);

// JSON has no NaN or Infinity; a gauge may hold them. A replacer or reviver makes V8 call back
// for every value (two to five times the cost of plain JSON under the agent's --no-opt), so
// they are used only for a batch that holds such a value, which is rare.
function keepNonFinite(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value)
    ? { [NON_FINITE]: String(value) }
    : value;
}

function restoreNonFinite(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && NON_FINITE in value) {
    return Number((value as Record<string, string>)[NON_FINITE]);
  }
  return value;
}

export function encodeBatch(batch: ResourceMetrics): Buffer {
  const encoded: EncodedBatch = {
    v: FORMAT_VERSION,
    resource: { attributes: batch.resource.attributes, schemaUrl: batch.resource.schemaUrl },
    scopeMetrics: batch.scopeMetrics,
  };
  const plain = JSON.stringify(encoded);
  // Plain JSON writes NaN and ±Infinity as null; a batch holds no null otherwise. A process
  // named "nullmailer" only takes the exact path too.
  const text = plain.includes('null') ? JSON.stringify(encoded, keepNonFinite) : plain;
  return Buffer.from(text, 'utf8');
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
const isHrTime = (value: unknown) =>
  Array.isArray(value) && value.length === 2 && value.every((n) => typeof n === 'number');

/** The batch `encodeBatch` wrote; BatchDecodeError for anything else. */
export function decodeBatch(bytes: Buffer): ResourceMetrics {
  let parsed: unknown;
  try {
    // Only a batch encodeBatch wrote with the replacer holds the quoted key; the same text in a
    // string value costs the slower path, not a wrong value.
    const text = bytes.toString('utf8');
    parsed = bytes.includes(NON_FINITE_KEY) ? JSON.parse(text, restoreNonFinite) : JSON.parse(text);
  } catch (error) {
    throw new BatchDecodeError(`not JSON: ${(error as Error).message}`);
  }
  if (!isObject(parsed) || parsed.v !== FORMAT_VERSION) {
    throw new BatchDecodeError(`not a version ${FORMAT_VERSION} batch`);
  }
  const { resource, scopeMetrics } = parsed as Partial<EncodedBatch>;
  if (!isObject(resource) || !isObject(resource.attributes) || !Array.isArray(scopeMetrics)) {
    throw new BatchDecodeError('resource or scopeMetrics missing');
  }
  for (const scope of scopeMetrics as unknown[]) {
    if (!isObject(scope) || !isObject(scope.scope) || !Array.isArray(scope.metrics)) {
      throw new BatchDecodeError('a scope without its name or metrics');
    }
    for (const metric of scope.metrics as unknown[]) {
      const valid =
        isObject(metric) &&
        isObject(metric.descriptor) &&
        typeof metric.descriptor.name === 'string' &&
        typeof metric.dataPointType === 'number' &&
        Array.isArray(metric.dataPoints) &&
        (metric.dataPoints as unknown[]).every(
          (point) => isObject(point) && isHrTime(point.startTime) && isHrTime(point.endTime),
        );
      if (!valid) throw new BatchDecodeError('a metric without name, type or timed points');
    }
  }
  return {
    resource: resourceFromAttributes(
      resource.attributes as Parameters<typeof resourceFromAttributes>[0],
      resource.schemaUrl === undefined ? undefined : { schemaUrl: resource.schemaUrl },
    ),
    scopeMetrics,
  };
}
