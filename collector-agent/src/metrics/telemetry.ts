import { availableParallelism } from 'node:os';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  type CollectionResult,
  type MetricCollectOptions,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import { bufferSettingsFromEnv, type BufferSettings } from '../config/buffer-settings.js';
import { ConfigError } from '../config/config-error.js';
import type { ProcessTable } from '../control/processes.js';
import type { HostFiles } from './host-files.js';
import { LinuxHostFiles } from './host-files.linux.js';
import { FileBatchStore } from './batch-spool.js';
import { MemoryBatchStore, type BatchStore } from './batch-store.js';
import { BufferingExporter } from './buffering-exporter.js';
import { ExportBufferCollector } from './export-buffer-metrics.js';
import { ExportBuffer, type BufferStats } from './export-buffer.js';
import { HostMetricsProducer } from './host-metrics.js';
import { checkOtlpTls, describeOtlpTls, otlpTlsFromEnv } from './otlp-tls.js';
import { OutageLog } from './outage-log.js';
import { ProcessMetricsCollector } from './process-metrics.js';
import { ProcessSnapshot } from './process-snapshot.js';
import { createHostCollectors } from './registry.js';
import { ATTR_SERVICE_INSTANCE_ID } from './semconv.js';
import {
  consoleTelemetryLogger,
  DistinctErrorLog,
  type TelemetryLogger,
} from './telemetry-logger.js';

export const DEFAULT_EXPORT_INTERVAL_MILLIS = 10_000;
/** At most this many batches wait on an unreachable Collector; more are refused at once. */
const EXPORT_CONCURRENCY_LIMIT = 2;

export interface TelemetryOptions {
  /** host.*, os.*, service.* attributes of this agent. */
  resource: Resource;
  /** The agent's shared process table; read once per export cycle. */
  processTable: ProcessTable;
  /** Processes kept from each of the CPU and memory rankings (`metrics.topN`). */
  topN: number;
  /** Added to the resource as service.instance.id when given. */
  serviceInstanceId?: string;
  /** Default: OTEL_METRIC_EXPORT_INTERVAL, else 10 000 ms. */
  exportIntervalMillis?: number;
  /** Default: OTLP over gRPC, configured by the standard OTEL_EXPORTER_OTLP_* variables. */
  exporter?: PushMetricExporter;
  /** The offline buffer. Default: CYBERCORP_BUFFER_MAX_BYTES and CYBERCORP_BUFFER_SPOOL. */
  buffer?: BufferSettings;
  /** Directory of the file spool (`buffer.spool: 'file'`); the agent uses its state directory. */
  spoolDirectory?: string;
  logger?: TelemetryLogger;
  files?: HostFiles;
  cpuCount?: number;
  env?: NodeJS.ProcessEnv;
}

export interface Telemetry {
  /** Applies a new `metrics.topN` from a reloaded configuration. */
  setTopN(topN: number): void;
  /** Collects and exports now. */
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

export function exportIntervalFromEnv(env: NodeJS.ProcessEnv): number {
  const raw = env.OTEL_METRIC_EXPORT_INTERVAL?.trim();
  if (!raw) return DEFAULT_EXPORT_INTERVAL_MILLIS;
  const millis = Number(raw);
  if (!Number.isInteger(millis) || millis <= 0) {
    throw new ConfigError(
      `OTEL_METRIC_EXPORT_INTERVAL must be a positive integer of milliseconds, got "${raw}"`,
    );
  }
  return millis;
}

/**
 * The standard OTEL_METRICS_EXPORTER: `otlp` (the default) or `none`. Other exporters of the
 * specification (`prometheus`, `console`) are not offered by this agent.
 */
export function metricsExporterFromEnv(env: NodeJS.ProcessEnv): 'otlp' | 'none' {
  const raw = env.OTEL_METRICS_EXPORTER?.trim().toLowerCase();
  if (!raw || raw === 'otlp') return 'otlp';
  if (raw === 'none') return 'none';
  throw new ConfigError(`OTEL_METRICS_EXPORTER must be "otlp" or "none", got "${raw}"`);
}

const disabledTelemetry: Telemetry = {
  setTopN: () => undefined,
  forceFlush: async () => undefined,
  shutdown: async () => undefined,
};

/**
 * OTLP over gRPC as the standard variables describe it: endpoint, headers, and TLS with
 * OTEL_EXPORTER_OTLP_[METRICS_]CERTIFICATE, _CLIENT_KEY and _CLIENT_CERTIFICATE, which the
 * exporter reads itself; the TLS files are checked first so a bad one stops the start.
 */
function otlpExporter(env: NodeJS.ProcessEnv, logger: TelemetryLogger): PushMetricExporter {
  const tls = otlpTlsFromEnv(env);
  checkOtlpTls(tls);
  const message = `metrics export to ${tls.endpoint} over ${describeOtlpTls(tls)}`;
  if (!tls.tls && Object.keys(tls.files).length > 0) logger.warn(message);
  else logger.info(message);
  return new OTLPMetricExporter({ concurrencyLimit: EXPORT_CONCURRENCY_LIMIT });
}

function bufferStore(settings: BufferSettings, spoolDirectory: string | undefined): BatchStore {
  if (settings.spool === 'memory') return new MemoryBatchStore();
  if (spoolDirectory === undefined) {
    throw new ConfigError(
      "CYBERCORP_BUFFER_SPOOL=file needs the agent's state directory; this telemetry has none",
    );
  }
  return new FileBatchStore(spoolDirectory);
}

/** The periodic reader, with collection errors logged once per distinct cause. */
class LoggingPeriodicReader extends PeriodicExportingMetricReader {
  constructor(
    options: ConstructorParameters<typeof PeriodicExportingMetricReader>[0],
    private readonly errors: DistinctErrorLog,
  ) {
    super(options);
  }

  override async collect(options?: MetricCollectOptions): Promise<CollectionResult> {
    const result = await super.collect(options);
    for (const error of result.errors) this.errors.report(error);
    return result;
  }
}

/**
 * Starts the agent's metrics: the host collectors, the top-N process metrics and the agent's
 * own buffer metrics, produced on a MeterProvider's periodic reader and exported over OTLP.
 * When the Collector is unreachable the agent keeps running and keeps each interval's batch in
 * its bounded offline buffer, to send oldest first when the Collector is back; the outage is
 * logged once and its end once, dropped intervals at most once a minute.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  const env = options.env ?? process.env;
  const logger = options.logger ?? consoleTelemetryLogger;
  if (!options.exporter && metricsExporterFromEnv(env) === 'none') return disabledTelemetry;
  const exportIntervalMillis = options.exportIntervalMillis ?? exportIntervalFromEnv(env);
  const bufferSettings = options.buffer ?? bufferSettingsFromEnv(env);
  const store = bufferStore(bufferSettings, options.spoolDirectory);
  const errors = new DistinctErrorLog(logger);
  // One table read serves the concurrent collectors of one cycle, never two cycles.
  const snapshot = new ProcessSnapshot(
    options.processTable,
    Math.min(1000, exportIntervalMillis / 2),
  );
  const processes = new ProcessMetricsCollector({
    snapshot,
    topN: options.topN,
    cpuCount: options.cpuCount ?? availableParallelism(),
  });
  const exporter = options.exporter ?? otlpExporter(env, logger);
  const outageLog = new OutageLog(
    logger,
    options.exporter ? 'the configured exporter' : otlpTlsFromEnv(env).endpoint,
  );
  const buffer = new ExportBuffer(store, bufferSettings.maxBytes, outageLog);
  const stats = (): BufferStats => buffer.stats();
  const collectors = new HostMetricsProducer([
    ...createHostCollectors({
      files: options.files ?? new LinuxHostFiles(),
      snapshot,
      reportError: (error) => errors.report(error),
    }),
    processes,
    new ExportBufferCollector(stats),
  ]);
  const reader = new LoggingPeriodicReader(
    {
      exporter: new BufferingExporter(exporter, buffer, { outcomes: outageLog }),
      exportIntervalMillis,
      exportTimeoutMillis: Math.min(exportIntervalMillis, 30_000),
      metricProducers: [collectors],
    },
    errors,
  );
  const resource = options.serviceInstanceId
    ? options.resource.merge(
        resourceFromAttributes({ [ATTR_SERVICE_INSTANCE_ID]: options.serviceInstanceId }),
      )
    : options.resource;
  const provider = new MeterProvider({ resource, readers: [reader] });

  return {
    setTopN: (topN) => processes.setTopN(topN),
    forceFlush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
