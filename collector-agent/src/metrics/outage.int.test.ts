import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { afterEach, describe, expect, it } from 'vitest';
import { createProcessTable } from '../control/process-table.js';
import { startTelemetry, type Telemetry } from './telemetry.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** The smallest real OTLP/gRPC metrics receiver: accepts every export and keeps the raw bytes. */
const METRICS_SERVICE: ServiceDefinition = {
  Export: {
    path: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
    requestStream: false,
    responseStream: false,
    requestSerialize: (value: Buffer) => value,
    requestDeserialize: (bytes: Buffer) => bytes,
    // An empty ExportMetricsServiceResponse encodes as zero bytes.
    responseSerialize: () => Buffer.alloc(0),
    responseDeserialize: (bytes: Buffer) => bytes,
  },
};

async function startReceiver(port: number, received: Buffer[]): Promise<Server> {
  const server = new Server();
  server.addService(METRICS_SERVICE, {
    Export: (call: { request: Buffer }, callback: (error: null, response: Buffer) => void) => {
      received.push(call.request);
      callback(null, Buffer.alloc(0));
    },
  });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error) =>
      error ? reject(error) : resolve(),
    ),
  );
  return server;
}

async function until(condition: () => boolean, what: string, timeoutMillis: number): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('telemetry while the Collector is down', () => {
  let telemetry: Telemetry | undefined;
  let receiver: Server | undefined;
  const savedEndpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;

  afterEach(async () => {
    await telemetry?.shutdown();
    receiver?.forceShutdown();
    if (savedEndpoint === undefined) delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    else process.env.OTEL_EXPORTER_OTLP_ENDPOINT = savedEndpoint;
  });

  it('keeps running, logs the outage once, and logs the recovery once a receiver listens', async () => {
    const port = await freePort();
    // The standard variable, read by the OTLP exporter itself.
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${port}`;
    const lines: string[] = [];
    telemetry = startTelemetry({
      resource: resourceFromAttributes({ 'service.name': 'cybercorp-agent' }),
      serviceInstanceId: 'outage-test',
      processTable: createProcessTable(),
      topN: 3,
      exportIntervalMillis: 300,
      logger: { info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`) },
    });

    // The one line at start says where and how (TLS or not) it exports.
    expect(lines.shift()).toMatch(
      new RegExp(`^info metrics export to http://127.0.0.1:${port} over `),
    );
    await until(() => lines.length > 0, 'the outage log', 30_000);
    // Many more failing cycles: still the one line.
    await sleep(3000);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(`^warn metrics export to http://127.0.0.1:${port} failing`),
    );

    const received: Buffer[] = [];
    receiver = await startReceiver(port, received);
    await until(() => lines.length > 1, 'the recovery log', 90_000);
    expect(lines[1]).toMatch(
      new RegExp(`^info metrics export to http://127.0.0.1:${port} recovered after \\d+ failed`),
    );
    // The first export back may be the empty one that asks whether the receiver answers.
    const withMetrics = () => received.filter((request) => request.includes('system.'));
    await until(() => withMetrics().length > 0, 'an export with metrics at the receiver', 30_000);
    const body = Buffer.concat(withMetrics()).toString('latin1');
    for (const name of [
      'system.memory.usage',
      'system.cpu.utilization',
      'process.cpu.utilization',
      'outage-test',
    ]) {
      expect(body).toContain(name);
    }
    await sleep(1000);
    expect(lines).toHaveLength(2);
  });
});
