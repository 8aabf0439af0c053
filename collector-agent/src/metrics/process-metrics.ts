import { ValueType, type Attributes } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import type { MetricData } from '@opentelemetry/sdk-metrics';
import { ConfigError } from '../config/config-error.js';
import type { MetricsCollector } from './collector.js';
import type { MetricCycle, Observation } from './metric-data.js';
import { ProcessCpuRates } from './process-cpu-rates.js';
import type { ProcessSnapshot } from './process-snapshot.js';
import {
  ATTR_PROCESS_EXECUTABLE_NAME,
  ATTR_PROCESS_OWNER,
  ATTR_PROCESS_PID,
  METRIC_PROCESS_CPU_TIME,
  METRIC_PROCESS_CPU_UTILIZATION,
  METRIC_PROCESS_MEMORY_USAGE,
  UNIT_BYTES,
  UNIT_RATIO,
  UNIT_SECONDS,
} from './semconv.js';
import { selectTopProcesses, type RatedProcess } from './top-processes.js';

export interface ProcessMetricsOptions {
  snapshot: ProcessSnapshot;
  /** Processes kept from each ranking (CPU, memory); 0 turns the per-process metrics off. */
  topN: number;
  cpuCount: number;
  /** Processes remembered between cycles for CPU deltas (default 4096). */
  maxRememberedPids?: number;
  now?: () => number;
}

interface OwnedProcess extends RatedProcess {
  owner: string;
}

const PROCESS_CPU_UTILIZATION = {
  name: METRIC_PROCESS_CPU_UTILIZATION,
  description: 'Share of all CPUs the process used since the last collection',
  unit: UNIT_RATIO,
};
const PROCESS_CPU_TIME = {
  name: METRIC_PROCESS_CPU_TIME,
  description: 'User plus system CPU seconds the process used since it started',
  unit: UNIT_SECONDS,
};
const PROCESS_MEMORY_USAGE = {
  name: METRIC_PROCESS_MEMORY_USAGE,
  description: 'Resident memory of the process',
  unit: UNIT_BYTES,
  valueType: ValueType.INT,
};

/**
 * Per-process metrics for the top N processes by CPU united with the top N by memory.
 *
 * Its points are made here, not observed on instruments of a Meter, because of how the SDK stores
 * observations: with cumulative temporality every attribute set ever observed stays in the
 * instrument's storage and is exported again on every cycle with its last value, so each pid
 * that ever made the top N would be exported forever, and once the cardinality limit is reached
 * new pids collapse into an `otel.metric.overflow` series. Producing the points here means an
 * export holds exactly this cycle's selection (at most 2N processes) and no memory is kept per
 * exited pid. The CPU time is the process's own cumulative counter, started at its start time.
 */
export class ProcessMetricsCollector implements MetricsCollector {
  readonly name = 'processes';
  private topN: number;
  private readonly rates: ProcessCpuRates;

  constructor(private readonly options: ProcessMetricsOptions) {
    this.topN = requireCount('metrics.topN', options.topN, 0);
    this.rates = new ProcessCpuRates({
      cpuCount: requireCount('cpuCount', options.cpuCount, 1),
      maxRememberedPids: requireCount('maxRememberedPids', options.maxRememberedPids ?? 4096, 1),
      now: options.now,
    });
  }

  /** The hard cap on processes per export: N by CPU plus N by memory, overlapping or not. */
  get maxProcesses(): number {
    return 2 * this.topN;
  }

  get rememberedPidCount(): number {
    return this.rates.rememberedCount;
  }

  setTopN(topN: number): void {
    this.topN = requireCount('metrics.topN', topN, 0);
  }

  async collect(cycle: MetricCycle): Promise<MetricData[]> {
    if (this.topN === 0) return [];
    const samples = await this.options.snapshot.read();
    const rates = this.rates.update(samples);
    const rated = samples.map((sample) => ({ sample, cpuUtilization: rates.get(sample.pid) ?? 0 }));
    const chosen = selectTopProcesses(rated, this.topN, this.maxProcesses);
    // The table's per-cycle read skips owners; only the chosen few need theirs.
    const owned: OwnedProcess[] = [];
    for (const process of chosen) {
      const owner = await this.options.snapshot.ownerOf(process.sample);
      if (owner !== undefined) owned.push({ ...process, owner }); // undefined: it just exited
    }
    return this.toMetrics(cycle, owned);
  }

  private toMetrics(cycle: MetricCycle, chosen: readonly OwnedProcess[]): MetricData[] {
    const utilization: Observation[] = [];
    const cpuTime: Observation[] = [];
    const memory: Observation[] = [];
    for (const { sample, cpuUtilization, owner } of chosen) {
      const attributes: Attributes = {
        [ATTR_PROCESS_PID]: sample.pid,
        [ATTR_PROCESS_EXECUTABLE_NAME]: sample.name,
        [ATTR_PROCESS_OWNER]: owner,
      };
      const started = sample.startedAt === null ? NaN : Date.parse(sample.startedAt);
      // A process that does not tell its start counts from when the agent began counting.
      const startTime = Number.isFinite(started) ? millisToHrTime(started) : cycle.startTime;
      utilization.push({ attributes, value: cpuUtilization });
      cpuTime.push({ attributes, value: sample.cpuSeconds, startTime });
      memory.push({ attributes, value: sample.memoryBytes, startTime });
    }
    return [
      cycle.gauge(PROCESS_CPU_UTILIZATION, utilization),
      cycle.counter(PROCESS_CPU_TIME, cpuTime),
      cycle.upDownCounter(PROCESS_MEMORY_USAGE, memory),
    ];
  }
}

function requireCount(what: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigError(`${what} must be an integer ≥ ${min}, got ${value}`);
  }
  return value;
}
