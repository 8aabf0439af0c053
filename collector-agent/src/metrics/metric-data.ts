import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import {
  AggregationTemporality,
  DataPointType,
  type DataPoint,
  type GaugeMetricData,
  type MetricData,
  type SumMetricData,
} from '@opentelemetry/sdk-metrics';

/** Name, description and unit of one metric, as an instrument would declare them. */
export interface MetricDefinition {
  name: string;
  description: string;
  unit: string;
  /** INT is sent as an OTLP integer; only for values that are always whole. Default DOUBLE. */
  valueType?: ValueType;
}

/** One observed value with its attributes; `startTime` overrides the cycle's for a counter. */
export interface Observation {
  attributes: Attributes;
  value: number;
  startTime?: HrTime;
}

/**
 * One collection cycle's clock, and the metric kinds the SDK's observable instruments would have
 * produced from the same observations: a gauge, a monotonic sum (counter) and a non-monotonic
 * sum (up-down counter), all cumulative. Sums start when their producer started counting.
 */
export class MetricCycle {
  readonly endTime: HrTime;

  constructor(
    /** When the producer began: the start of every cumulative sum without its own. */
    readonly startTime: HrTime,
    nowMillis: number,
  ) {
    this.endTime = millisToHrTime(nowMillis);
  }

  gauge(definition: MetricDefinition, observations: readonly Observation[]): GaugeMetricData {
    return {
      descriptor: descriptorOf(definition),
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.GAUGE,
      dataPoints: observations.map((o) => this.point(o, this.endTime)),
    };
  }

  counter(definition: MetricDefinition, observations: readonly Observation[]): SumMetricData {
    return this.sum(definition, observations, true);
  }

  upDownCounter(definition: MetricDefinition, observations: readonly Observation[]): SumMetricData {
    return this.sum(definition, observations, false);
  }

  private sum(
    definition: MetricDefinition,
    observations: readonly Observation[],
    isMonotonic: boolean,
  ): SumMetricData {
    return {
      descriptor: descriptorOf(definition),
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      isMonotonic,
      dataPoints: observations.map((o) => this.point(o, o.startTime ?? this.startTime)),
    };
  }

  private point(observation: Observation, startTime: HrTime): DataPoint<number> {
    return {
      attributes: observation.attributes,
      startTime,
      endTime: this.endTime,
      value: observation.value,
    };
  }
}

function descriptorOf(definition: MetricDefinition): MetricData['descriptor'] {
  return {
    name: definition.name,
    description: definition.description,
    unit: definition.unit,
    valueType: definition.valueType ?? ValueType.DOUBLE,
  };
}

/** Metrics with at least one point: an empty metric is noise on the wire. */
export function withPoints(metrics: readonly MetricData[]): MetricData[] {
  return metrics.filter((metric) => metric.dataPoints.length > 0);
}
