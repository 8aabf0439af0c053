import {
  FLAG_NO_RECORDED_VALUE,
  MetricBatch,
  type AttributeValue,
  type Attributes,
} from './metric-batch.js';
import { ProtobufReader, ProtobufWriter, WIRE } from './protobuf-reader.js';

// Field numbers of opentelemetry/proto/{collector/metrics/v1/metrics_service,metrics/v1/metrics,
// common/v1/common,resource/v1/resource}.proto. Only what the history store keeps is read;
// everything else is skipped, as protobuf allows.

/** Decodes an ExportMetricsServiceRequest. Throws MalformedProtobufError on bad bytes. */
export function decodeMetricsRequest(bytes: Uint8Array): MetricBatch {
  const batch = new MetricBatch();
  const reader = new ProtobufReader(bytes);
  while (!reader.done) {
    const { field, wire } = reader.tag();
    if (field === 1) {
      reader.expect(wire, WIRE.bytes, 'resource_metrics');
      decodeResourceMetrics(reader.bytesField(), batch);
    } else reader.skip(wire);
  }
  return batch;
}

function decodeResourceMetrics(bytes: Uint8Array, batch: MetricBatch): void {
  const reader = new ProtobufReader(bytes);
  let resource: Attributes = {};
  const scopes: Uint8Array[] = [];
  while (!reader.done) {
    const { field, wire } = reader.tag();
    if (field === 1) {
      reader.expect(wire, WIRE.bytes, 'resource');
      resource = decodeResource(reader.bytesField());
    } else if (field === 2) {
      reader.expect(wire, WIRE.bytes, 'scope_metrics');
      scopes.push(reader.bytesField());
    } else reader.skip(wire);
  }
  // The resource may follow its scopes on the wire, so points are built once it is known.
  for (const scope of scopes) decodeScopeMetrics(scope, resource, batch);
}

function decodeResource(bytes: Uint8Array): Attributes {
  const reader = new ProtobufReader(bytes);
  const attributes: Attributes = {};
  while (!reader.done) {
    const { field, wire } = reader.tag();
    if (field === 1) {
      reader.expect(wire, WIRE.bytes, 'resource.attributes');
      decodeKeyValue(reader.bytesField(), attributes);
    } else reader.skip(wire);
  }
  return attributes;
}

function decodeScopeMetrics(bytes: Uint8Array, resource: Attributes, batch: MetricBatch): void {
  const reader = new ProtobufReader(bytes);
  while (!reader.done) {
    const { field, wire } = reader.tag();
    if (field === 2) {
      reader.expect(wire, WIRE.bytes, 'metrics');
      decodeMetric(reader.bytesField(), resource, batch);
    } else reader.skip(wire);
  }
}

const METRIC_FIELD = { name: 1, gauge: 5, sum: 7, histogram: 9, exponential: 10, summary: 11 };

function decodeMetric(bytes: Uint8Array, resource: Attributes, batch: MetricBatch): void {
  const reader = new ProtobufReader(bytes);
  let name = '';
  const data: { kind: number; bytes: Uint8Array }[] = [];
  while (!reader.done) {
    const { field, wire } = reader.tag();
    if (field === METRIC_FIELD.name) {
      reader.expect(wire, WIRE.bytes, 'metric.name');
      name = reader.string();
    } else if (
      field === METRIC_FIELD.gauge ||
      field === METRIC_FIELD.sum ||
      field === METRIC_FIELD.histogram ||
      field === METRIC_FIELD.exponential ||
      field === METRIC_FIELD.summary
    ) {
      reader.expect(wire, WIRE.bytes, 'metric.data');
      data.push({ kind: field, bytes: reader.bytesField() });
    } else reader.skip(wire);
  }
  for (const { kind, bytes: dataBytes } of data) {
    const points = dataPointsOf(dataBytes);
    if (name === '') {
      batch.reject(points.length, 'a metric without a name');
      continue;
    }
    for (const point of points) {
      if (kind === METRIC_FIELD.gauge || kind === METRIC_FIELD.sum) {
        addNumberPoint(point, name, resource, batch);
      } else addDistributionPoint(point, kind, name, resource, batch);
    }
  }
}

/** The data_points (field 1) of a Gauge, Sum, Histogram, ExponentialHistogram or Summary. */
function dataPointsOf(bytes: Uint8Array): Uint8Array[] {
  const reader = new ProtobufReader(bytes);
  const points: Uint8Array[] = [];
  while (!reader.done) {
    const { field, wire } = reader.tag();
    if (field === 1) {
      reader.expect(wire, WIRE.bytes, 'data_points');
      points.push(reader.bytesField());
    } else reader.skip(wire);
  }
  return points;
}

/** NumberDataPoint: time 3 (fixed64), as_double 4, as_int 6 (sfixed64), attributes 7, flags 8. */
function addNumberPoint(
  bytes: Uint8Array,
  name: string,
  resource: Attributes,
  batch: MetricBatch,
): void {
  const reader = new ProtobufReader(bytes);
  const attributes: Attributes = {};
  let timeUnixNano = 0n;
  let value: number | undefined;
  let flags = 0;
  while (!reader.done) {
    const { field, wire } = reader.tag();
    if (field === 3) {
      reader.expect(wire, WIRE.fixed64, 'time_unix_nano');
      timeUnixNano = reader.fixed64();
    } else if (field === 4) {
      reader.expect(wire, WIRE.fixed64, 'as_double');
      value = reader.double();
    } else if (field === 6) {
      reader.expect(wire, WIRE.fixed64, 'as_int');
      value = Number(reader.sfixed64());
    } else if (field === 7) {
      reader.expect(wire, WIRE.bytes, 'attributes');
      decodeKeyValue(reader.bytesField(), attributes);
    } else if (field === 8) {
      reader.expect(wire, WIRE.varint, 'flags');
      flags = reader.varint();
    } else reader.skip(wire);
  }
  if (flags & FLAG_NO_RECORDED_VALUE) return;
  if (value === undefined) {
    batch.reject(1, `${name}: a number point without a value`);
    return;
  }
  batch.add({ resource, name, attributes, timeUnixNano, value });
}

/**
 * Where count (fixed64) and sum (double) sit in each distribution point, and its attributes:
 * Histogram 4/5/9, ExponentialHistogram 4/5/1, Summary 4/5/7; time is field 3 in all three.
 */
const DISTRIBUTION_ATTRIBUTES: Record<number, number> = {
  [METRIC_FIELD.histogram]: 9,
  [METRIC_FIELD.exponential]: 1,
  [METRIC_FIELD.summary]: 7,
};
const DISTRIBUTION_FLAGS: Record<number, number> = {
  [METRIC_FIELD.histogram]: 10,
  [METRIC_FIELD.exponential]: 10,
  [METRIC_FIELD.summary]: 8,
};

function addDistributionPoint(
  bytes: Uint8Array,
  kind: number,
  name: string,
  resource: Attributes,
  batch: MetricBatch,
): void {
  const reader = new ProtobufReader(bytes);
  const attributes: Attributes = {};
  let timeUnixNano = 0n;
  let count: number | undefined;
  let sum: number | undefined;
  let flags = 0;
  while (!reader.done) {
    const { field, wire } = reader.tag();
    if (field === 3) {
      reader.expect(wire, WIRE.fixed64, 'time_unix_nano');
      timeUnixNano = reader.fixed64();
    } else if (field === 4) {
      reader.expect(wire, WIRE.fixed64, 'count');
      count = Number(reader.fixed64());
    } else if (field === 5) {
      reader.expect(wire, WIRE.fixed64, 'sum');
      sum = reader.double();
    } else if (field === DISTRIBUTION_ATTRIBUTES[kind]) {
      reader.expect(wire, WIRE.bytes, 'attributes');
      decodeKeyValue(reader.bytesField(), attributes);
    } else if (field === DISTRIBUTION_FLAGS[kind] && wire === WIRE.varint) {
      flags = reader.varint();
    } else reader.skip(wire);
  }
  if (flags & FLAG_NO_RECORDED_VALUE) return;
  batch.add({ resource, name: `${name}.count`, attributes, timeUnixNano, value: count ?? 0 });
  if (sum !== undefined) {
    batch.add({ resource, name: `${name}.sum`, attributes, timeUnixNano, value: sum });
  }
}

/** KeyValue: key 1, value 2 (AnyValue); sets attributes[key]. */
function decodeKeyValue(bytes: Uint8Array, attributes: Attributes): void {
  const reader = new ProtobufReader(bytes);
  let key = '';
  let value: AttributeValue = null;
  while (!reader.done) {
    const { field, wire } = reader.tag();
    if (field === 1) {
      reader.expect(wire, WIRE.bytes, 'key');
      key = reader.string();
    } else if (field === 2) {
      reader.expect(wire, WIRE.bytes, 'value');
      value = decodeAnyValue(reader.bytesField());
    } else reader.skip(wire);
  }
  if (key !== '') attributes[key] = value;
}

/** AnyValue: string 1, bool 2, int 3, double 4, array 5, kvlist 6, bytes 7 (as base64). */
function decodeAnyValue(bytes: Uint8Array): AttributeValue {
  const reader = new ProtobufReader(bytes);
  let value: AttributeValue = null;
  while (!reader.done) {
    const { field, wire } = reader.tag();
    switch (field) {
      case 1:
        reader.expect(wire, WIRE.bytes, 'string_value');
        value = reader.string();
        break;
      case 2:
        reader.expect(wire, WIRE.varint, 'bool_value');
        value = reader.varint() !== 0;
        break;
      case 3:
        reader.expect(wire, WIRE.varint, 'int_value');
        value = jsonInteger(reader.int64());
        break;
      case 4:
        reader.expect(wire, WIRE.fixed64, 'double_value');
        value = reader.double();
        break;
      case 5:
        reader.expect(wire, WIRE.bytes, 'array_value');
        value = decodeArrayValue(reader.bytesField());
        break;
      case 6: {
        reader.expect(wire, WIRE.bytes, 'kvlist_value');
        const list: Attributes = {};
        const inner = new ProtobufReader(reader.bytesField());
        while (!inner.done) {
          const tag = inner.tag();
          if (tag.field === 1 && tag.wire === WIRE.bytes) decodeKeyValue(inner.bytesField(), list);
          else inner.skip(tag.wire);
        }
        value = list;
        break;
      }
      case 7:
        reader.expect(wire, WIRE.bytes, 'bytes_value');
        value = Buffer.from(reader.bytesField()).toString('base64');
        break;
      default:
        reader.skip(wire);
    }
  }
  return value;
}

function decodeArrayValue(bytes: Uint8Array): AttributeValue[] {
  const reader = new ProtobufReader(bytes);
  const values: AttributeValue[] = [];
  while (!reader.done) {
    const { field, wire } = reader.tag();
    if (field === 1) {
      reader.expect(wire, WIRE.bytes, 'values');
      values.push(decodeAnyValue(reader.bytesField()));
    } else reader.skip(wire);
  }
  return values;
}

/** An int64 as a JSON number when exact, else as its decimal string (as OTLP/JSON does). */
export function jsonInteger(value: bigint): number | string {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value.toString();
}

/** ExportMetricsServiceResponse with partial_success (1) {rejected_data_points 1, error_message 2}. */
export function encodeMetricsResponse(rejected: number, message: string): Uint8Array {
  if (rejected === 0 && message === '') return new Uint8Array(0);
  const partial = new ProtobufWriter().varintField(1, rejected).stringField(2, message).finish();
  return new ProtobufWriter().bytesField(1, partial).finish();
}
