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
  const data: { kind: PointKind; bytes: Uint8Array }[] = [];
  while (!reader.done) {
    const { field, wire } = reader.tag();
    if (field === METRIC_FIELD.name) {
      reader.expect(wire, WIRE.bytes, 'metric.name');
      name = reader.string();
      continue;
    }
    const kind = POINT_KINDS[field];
    if (kind === undefined) reader.skip(wire);
    else {
      reader.expect(wire, WIRE.bytes, 'metric.data');
      data.push({ kind, bytes: reader.bytesField() });
    }
  }
  // One per metric, refilled by each of its points, rather than an object per point.
  const point = emptyPoint();
  for (const { kind, bytes: dataBytes } of data) {
    const points = dataPointsOf(dataBytes);
    if (name === '') {
      batch.reject(points.length, 'a metric without a name');
      continue;
    }
    for (const pointBytes of points) {
      readPoint(pointBytes, kind.fields, point);
      if (point.flags & FLAG_NO_RECORDED_VALUE) continue;
      kind.store(point, name, resource, batch);
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

/** The fields of one data point that the history keeps, as read off the wire. */
interface PointFields {
  timeUnixNano: bigint;
  /** NumberDataPoint: as_double or as_int. */
  value: number | undefined;
  /** Histogram, ExponentialHistogram, Summary. */
  count: number | undefined;
  sum: number | undefined;
  flags: number;
  attributes: Attributes;
}

function emptyPoint(): PointFields {
  return {
    timeUnixNano: 0n,
    value: undefined,
    count: undefined,
    sum: undefined,
    flags: 0,
    attributes: {},
  };
}

/** Reads one field, sent with wire type `wire`, into `point`. */
type FieldReader = (reader: ProtobufReader, wire: number, point: PointFields) => void;

/** A point message's readers by field number; a field without one is skipped. */
type FieldTable = readonly (FieldReader | undefined)[];

/** A point message: how its fields are read, and what is stored of a point that has a value. */
interface PointKind {
  fields: FieldTable;
  store(point: PointFields, name: string, resource: Attributes, batch: MetricBatch): void;
}

/** Reads the point in `bytes` into `point`, first reset to no fields read. */
function readPoint(bytes: Uint8Array, fields: FieldTable, point: PointFields): void {
  point.timeUnixNano = 0n;
  point.value = undefined;
  point.count = undefined;
  point.sum = undefined;
  point.flags = 0;
  // Not reset but new: the stored points keep their attributes.
  point.attributes = {};
  const reader = new ProtobufReader(bytes);
  while (!reader.done) {
    const { field, wire } = reader.tag();
    const read = fields[field];
    if (read === undefined) reader.skip(wire);
    else read(reader, wire, point);
  }
}

/** A dense array indexed by field number: finding a field's reader is one array load. */
function fieldTable(readers: Record<number, FieldReader>): FieldTable {
  const length = Math.max(...Object.keys(readers).map(Number)) + 1;
  return Array.from({ length }, (_, field) => readers[field]);
}

const readTime: FieldReader = (reader, wire, point) => {
  reader.expect(wire, WIRE.fixed64, 'time_unix_nano');
  point.timeUnixNano = reader.fixed64();
};
const readAttributes: FieldReader = (reader, wire, point) => {
  reader.expect(wire, WIRE.bytes, 'attributes');
  decodeKeyValue(reader.bytesField(), point.attributes);
};
const readAsDouble: FieldReader = (reader, wire, point) => {
  reader.expect(wire, WIRE.fixed64, 'as_double');
  point.value = reader.double();
};
const readAsInt: FieldReader = (reader, wire, point) => {
  reader.expect(wire, WIRE.fixed64, 'as_int');
  point.value = Number(reader.sfixed64());
};
const readFlags: FieldReader = (reader, wire, point) => {
  reader.expect(wire, WIRE.varint, 'flags');
  point.flags = reader.varint();
};
const readCount: FieldReader = (reader, wire, point) => {
  reader.expect(wire, WIRE.fixed64, 'count');
  point.count = Number(reader.fixed64());
};
const readSum: FieldReader = (reader, wire, point) => {
  reader.expect(wire, WIRE.fixed64, 'sum');
  point.sum = reader.double();
};
/** Distribution points have always skipped flags of another wire type as an unknown field. */
const readFlagsIfVarint: FieldReader = (reader, wire, point) => {
  if (wire === WIRE.varint) point.flags = reader.varint();
  else reader.skip(wire);
};

/** NumberDataPoint: time 3 (fixed64), as_double 4, as_int 6 (sfixed64), attributes 7, flags 8. */
const NUMBER_POINT: PointKind = {
  fields: fieldTable({
    3: readTime,
    4: readAsDouble,
    6: readAsInt,
    7: readAttributes,
    8: readFlags,
  }),
  store(point, name, resource, batch) {
    if (point.value === undefined) {
      batch.reject(1, `${name}: a number point without a value`);
      return;
    }
    const { attributes, timeUnixNano, value } = point;
    batch.add({ resource, name, attributes, timeUnixNano, value });
  },
};

/** A distribution point is kept as its `.count` series (0 when absent) and its `.sum` if sent. */
function storeDistributionPoint(
  point: PointFields,
  name: string,
  resource: Attributes,
  batch: MetricBatch,
): void {
  const { attributes, timeUnixNano, count, sum } = point;
  batch.add({ resource, name: `${name}.count`, attributes, timeUnixNano, value: count ?? 0 });
  if (sum !== undefined) {
    batch.add({ resource, name: `${name}.sum`, attributes, timeUnixNano, value: sum });
  }
}

/**
 * The distribution points: time 3, count 4 (fixed64) and sum 5 (double) in all three;
 * attributes and flags are Histogram 9/10, ExponentialHistogram 1/10, Summary 7/8.
 */
const distributionPoint = (attributes: number, flags: number): PointKind => ({
  fields: fieldTable({
    3: readTime,
    4: readCount,
    5: readSum,
    [attributes]: readAttributes,
    [flags]: readFlagsIfVarint,
  }),
  store: storeDistributionPoint,
});

/** What each kind of Metric.data holds points of, by its field number in Metric. */
const POINT_KINDS: Record<number, PointKind> = {
  [METRIC_FIELD.gauge]: NUMBER_POINT,
  [METRIC_FIELD.sum]: NUMBER_POINT,
  [METRIC_FIELD.histogram]: distributionPoint(9, 10),
  [METRIC_FIELD.exponential]: distributionPoint(1, 10),
  [METRIC_FIELD.summary]: distributionPoint(7, 8),
};

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
