import {
  FLAG_NO_RECORDED_VALUE,
  MetricBatch,
  type AttributeValue,
  type Attributes,
} from './metric-batch.js';
import { MalformedProtobufError } from './protobuf-reader.js';
import { jsonInteger } from './otlp-protobuf.js';

// OTLP/JSON is the protobuf JSON mapping of the same messages: lowerCamelCase field names,
// 64-bit integers as decimal strings (numbers are accepted too), enums as integers.

type Json = Record<string, unknown>;

const malformed = (message: string) => new MalformedProtobufError(message);

/** Decodes an ExportMetricsServiceRequest sent as OTLP/JSON (already parsed). */
export function decodeMetricsJson(body: unknown): MetricBatch {
  const batch = new MetricBatch();
  for (const resourceMetrics of list(object(body, 'request').resourceMetrics, 'resourceMetrics')) {
    const entry = object(resourceMetrics, 'resourceMetrics[]');
    const resource = attributesOf(
      entry.resource === undefined ? undefined : object(entry.resource, 'resource').attributes,
    );
    for (const scope of list(entry.scopeMetrics, 'scopeMetrics')) {
      for (const metric of list(object(scope, 'scopeMetrics[]').metrics, 'metrics')) {
        decodeMetric(object(metric, 'metrics[]'), resource, batch);
      }
    }
  }
  return batch;
}

const NUMBER_KINDS = ['gauge', 'sum'] as const;
const DISTRIBUTION_KINDS = ['histogram', 'exponentialHistogram', 'summary'] as const;

function decodeMetric(metric: Json, resource: Attributes, batch: MetricBatch): void {
  const name = typeof metric.name === 'string' ? metric.name : '';
  for (const kind of [...NUMBER_KINDS, ...DISTRIBUTION_KINDS]) {
    if (metric[kind] === undefined) continue;
    const points = list(object(metric[kind], kind).dataPoints, `${kind}.dataPoints`);
    if (name === '') {
      batch.reject(points.length, 'a metric without a name');
      continue;
    }
    for (const raw of points) {
      const point = object(raw, 'dataPoints[]');
      if (integer(point.flags ?? 0, 'flags') & FLAG_NO_RECORDED_VALUE) continue;
      const attributes = attributesOf(point.attributes);
      const timeUnixNano = BigInt(integerText(point.timeUnixNano ?? 0, 'timeUnixNano'));
      if ((NUMBER_KINDS as readonly string[]).includes(kind)) {
        const value =
          point.asDouble !== undefined
            ? number(point.asDouble, 'asDouble')
            : point.asInt !== undefined
              ? Number(integerText(point.asInt, 'asInt'))
              : undefined;
        if (value === undefined) batch.reject(1, `${name}: a number point without a value`);
        else batch.add({ resource, name, attributes, timeUnixNano, value });
        continue;
      }
      const count = Number(integerText(point.count ?? 0, 'count'));
      batch.add({ resource, name: `${name}.count`, attributes, timeUnixNano, value: count });
      if (point.sum !== undefined) {
        const value = number(point.sum, 'sum');
        batch.add({ resource, name: `${name}.sum`, attributes, timeUnixNano, value });
      }
    }
  }
}

function attributesOf(raw: unknown): Attributes {
  const attributes: Attributes = {};
  for (const entry of list(raw, 'attributes')) {
    const { key, value } = object(entry, 'attributes[]');
    if (typeof key !== 'string') throw malformed('attributes[].key must be a string');
    if (key !== '') attributes[key] = anyValue(value);
  }
  return attributes;
}

function anyValue(raw: unknown): AttributeValue {
  if (raw === undefined || raw === null) return null;
  const value = object(raw, 'AnyValue');
  if (typeof value.stringValue === 'string') return value.stringValue;
  if (typeof value.boolValue === 'boolean') return value.boolValue;
  if (value.intValue !== undefined)
    return jsonInteger(BigInt(integerText(value.intValue, 'intValue')));
  if (value.doubleValue !== undefined) return number(value.doubleValue, 'doubleValue');
  if (value.arrayValue !== undefined) {
    return list(object(value.arrayValue, 'arrayValue').values, 'arrayValue.values').map(anyValue);
  }
  if (value.kvlistValue !== undefined) {
    return attributesOf(object(value.kvlistValue, 'kvlistValue').values);
  }
  if (typeof value.bytesValue === 'string') return value.bytesValue;
  return null;
}

function object(value: unknown, field: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed(`${field} must be an object`);
  }
  return value as Json;
}

function list(value: unknown, field: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw malformed(`${field} must be an array`);
  return value;
}

/** A 64-bit integer field: a decimal string or a safe JS integer. */
function integerText(value: unknown, field: string): string {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value === 'string' && /^-?\d{1,20}$/.test(value)) return value;
  throw malformed(`${field} must be an integer`);
}

function integer(value: unknown, field: string): number {
  return Number(integerText(value, field));
}

/** A double field: a JSON number, or "NaN"/"Infinity"/"-Infinity" as the JSON mapping allows. */
function number(value: unknown, field: string): number {
  if (typeof value === 'number') return value;
  if (value === 'NaN') return NaN;
  if (value === 'Infinity') return Infinity;
  if (value === '-Infinity') return -Infinity;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) {
    return Number(value);
  }
  throw malformed(`${field} must be a number`);
}
