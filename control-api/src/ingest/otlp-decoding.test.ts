import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { describe, expect, it } from 'vitest';
import { sdkExport } from '../test-support/otlp-exports.js';
import type { MetricPoint } from './metric-batch.js';
import { decodeMetricsJson } from './otlp-json.js';
import { decodeMetricsRequest, encodeMetricsResponse } from './otlp-protobuf.js';
import { MalformedProtobufError, ProtobufReader, WIRE } from './protobuf-reader.js';

/** What the agent's SDK exports: a gauge, an up-down counter, a counter and a histogram. */
const exportedMetrics = () =>
  sdkExport(
    {
      'host.name': 'web-3',
      'service.instance.id': '0190a9c4-6c6e-7cde-8a4b-6d6f0f3c2a11',
      'host.cpu.count': 2,
    },
    (meter) => {
      meter
        .createObservableGauge('system.cpu.utilization')
        .addCallback((result) =>
          result.observe(0.25, { 'cpu.mode': 'user', 'cpu.logical_number': 1 }),
        );
      meter.createUpDownCounter('system.memory.usage').add(1024, { 'system.memory.state': 'used' });
      meter
        .createCounter('system.network.io')
        .add(4096, { 'network.io.direction': 'receive', 'network.interface.name': 'lo' });
      const histogram = meter.createHistogram('cybercorp.agent.collection.duration');
      histogram.record(0.5);
      histogram.record(1.5);
    },
  );

/** Hand-written protobuf, for the point messages the JS SDK never sends (Summary, …). */
const varint = (value: number): number[] =>
  value < 0x80 ? [value] : [(value % 128) | 0x80, ...varint(Math.floor(value / 128))];
const fixed64 = (field: number, write: (view: DataView) => void): number[] => {
  const view = new DataView(new ArrayBuffer(8));
  write(view);
  return [...varint(field * 8 + WIRE.fixed64), ...new Uint8Array(view.buffer)];
};
const uint64 = (field: number, value: bigint) =>
  fixed64(field, (view) => view.setBigUint64(0, value, true));
const double = (field: number, value: number) =>
  fixed64(field, (view) => view.setFloat64(0, value, true));
const flag = (field: number, value: number) => [
  ...varint(field * 8 + WIRE.varint),
  ...varint(value),
];
const message = (field: number, ...fields: number[][]): number[] => {
  const payload = fields.flat();
  return [...varint(field * 8 + WIRE.bytes), ...varint(payload.length), ...payload];
};
const text = (field: number, value: string) => message(field, [...new TextEncoder().encode(value)]);
const stringAttribute = (field: number, key: string, value: string) =>
  message(field, text(1, key), message(2, text(1, value)));
const request = (...metrics: number[][]) =>
  Uint8Array.from(message(1, message(2, ...metrics.map((metric) => message(2, metric)))));

const byName = (points: MetricPoint[]) =>
  Object.fromEntries(points.map((p) => [p.name, { attributes: p.attributes, value: p.value }]));

describe('OTLP metrics decoding', () => {
  it('decodes what the OTel JS SDK serializes as protobuf', async () => {
    const metrics = await exportedMetrics();
    const bytes = ProtobufMetricsSerializer.serializeRequest(metrics)!;
    const batch = decodeMetricsRequest(bytes);

    expect(batch.rejected).toBe(0);
    expect(byName(batch.points)).toEqual({
      'system.cpu.utilization': {
        attributes: { 'cpu.mode': 'user', 'cpu.logical_number': 1 },
        value: 0.25,
      },
      'system.memory.usage': { attributes: { 'system.memory.state': 'used' }, value: 1024 },
      'system.network.io': {
        attributes: { 'network.io.direction': 'receive', 'network.interface.name': 'lo' },
        value: 4096,
      },
      'cybercorp.agent.collection.duration.count': { attributes: {}, value: 2 },
      'cybercorp.agent.collection.duration.sum': { attributes: {}, value: 2 },
    });
    const [point] = batch.points;
    expect(point!.resource).toEqual({
      'host.name': 'web-3',
      'service.instance.id': '0190a9c4-6c6e-7cde-8a4b-6d6f0f3c2a11',
      'host.cpu.count': 2,
    });
    const ageMs = Date.now() - Number(point!.timeUnixNano / 1_000_000n);
    expect(ageMs).toBeGreaterThanOrEqual(0);
    expect(ageMs).toBeLessThan(60_000);
  });

  it('decodes the same points from OTLP/JSON', async () => {
    const metrics = await exportedMetrics();
    const fromProtobuf = decodeMetricsRequest(ProtobufMetricsSerializer.serializeRequest(metrics)!);
    const json: unknown = JSON.parse(
      new TextDecoder().decode(JsonMetricsSerializer.serializeRequest(metrics)),
    );
    const fromJson = decodeMetricsJson(json);
    expect(fromJson.points).toEqual(fromProtobuf.points);
  });

  it('refuses truncated or mistyped protobuf', async () => {
    const bytes = ProtobufMetricsSerializer.serializeRequest(await exportedMetrics())!;
    expect(() => decodeMetricsRequest(bytes.subarray(0, bytes.length - 3))).toThrow(
      MalformedProtobufError,
    );
    // Field 1 (resource_metrics) sent as a varint instead of a message.
    expect(() => decodeMetricsRequest(Uint8Array.of(0x08, 0x01))).toThrow(/wire type 0/);
    // A length far past the end of the buffer.
    expect(() => decodeMetricsRequest(Uint8Array.of(0x0a, 0xff, 0xff, 0x03))).toThrow(/truncated/);
    expect(decodeMetricsRequest(new Uint8Array(0)).points).toEqual([]);
  });

  it('refuses JSON that is not an export request, and counts points it cannot keep', () => {
    expect(() => decodeMetricsJson([])).toThrow(MalformedProtobufError);
    expect(() => decodeMetricsJson({ resourceMetrics: {} })).toThrow(/must be an array/);
    const batch = decodeMetricsJson({
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'host.name', value: { stringValue: 'db-1' } }] },
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'system.load',
                  gauge: { dataPoints: [{ timeUnixNano: '1', asDouble: 'NaN' }] },
                },
                { name: '', sum: { dataPoints: [{ timeUnixNano: '1', asInt: '3' }, {}] } },
                { name: 'system.x', gauge: { dataPoints: [{ timeUnixNano: '1' }] } },
                { name: 'system.y', gauge: { dataPoints: [{ timeUnixNano: '1', flags: 1 }] } },
                { name: 'system.z', gauge: { dataPoints: [{ timeUnixNano: '7', asInt: '-5' }] } },
              ],
            },
          ],
        },
      ],
    });
    expect(batch.points).toEqual([
      {
        resource: { 'host.name': 'db-1' },
        name: 'system.z',
        attributes: {},
        timeUnixNano: 7n,
        value: -5,
      },
    ]);
    expect(batch.rejected).toBe(4);
    expect(batch.rejectionMessage).toBe(
      'non-finite values are not stored; a metric without a name; system.x: a number point without a value',
    );
  });

  it("reads each point message's own attribute and flags fields", () => {
    const at = 1_700_000_000_000_000_000n;
    const batch = decodeMetricsRequest(
      request(
        [
          ...text(1, 'rpc.duration'),
          // Summary: attributes 7, flags 8; the second point has no recorded value.
          ...message(
            11,
            message(1, uint64(3, at), uint64(4, 4n), double(5, 2.5), stringAttribute(7, 'q', 'a')),
            message(1, uint64(3, at), uint64(4, 9n), flag(8, 1)),
          ),
        ],
        [
          ...text(1, 'queue.depth'),
          // ExponentialHistogram: attributes 1, flags 10, here as a fixed64: skipped, not refused.
          ...message(
            10,
            message(1, uint64(3, at), uint64(4, 3n), stringAttribute(1, 'q', 'b'), uint64(10, 1n)),
          ),
        ],
      ),
    );
    expect(batch.rejected).toBe(0);
    expect(batch.points).toEqual([
      {
        resource: {},
        name: 'rpc.duration.count',
        attributes: { q: 'a' },
        timeUnixNano: at,
        value: 4,
      },
      {
        resource: {},
        name: 'rpc.duration.sum',
        attributes: { q: 'a' },
        timeUnixNano: at,
        value: 2.5,
      },
      {
        resource: {},
        name: 'queue.depth.count',
        attributes: { q: 'b' },
        timeUnixNano: at,
        value: 3,
      },
    ]);
    // A number point's flags of another wire type are refused.
    const gauge = request([
      ...text(1, 'system.load'),
      ...message(5, message(1, uint64(3, at), double(4, 1), uint64(8, 1n))),
    ]);
    expect(() => decodeMetricsRequest(gauge)).toThrow(/flags: wire type 1, expected 0/);
  });

  it('answers partial success as ExportMetricsServiceResponse bytes', () => {
    expect(encodeMetricsResponse(0, '')).toEqual(new Uint8Array(0));
    const reader = new ProtobufReader(encodeMetricsResponse(3, 'too old'));
    expect(reader.tag()).toEqual({ field: 1, wire: 2 });
    const partial = new ProtobufReader(reader.bytesField());
    expect(partial.tag()).toEqual({ field: 1, wire: 0 });
    expect(partial.varint()).toBe(3);
    expect(partial.tag()).toEqual({ field: 2, wire: 2 });
    expect(partial.string()).toBe('too old');
    expect(reader.done && partial.done).toBe(true);
  });
});
