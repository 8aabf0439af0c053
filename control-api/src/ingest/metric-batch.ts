/** An attribute value as stored in jsonb: OTLP's AnyValue mapped to JSON. */
export type AttributeValue =
  string | number | boolean | null | AttributeValue[] | { [key: string]: AttributeValue };
export type Attributes = Record<string, AttributeValue>;

/** One number sample of one series, as the history store keeps it. */
export interface MetricPoint {
  /** The resource's attributes (host.name, service.instance.id, …); shared by its points. */
  resource: Attributes;
  name: string;
  attributes: Attributes;
  /** Nanoseconds since the epoch, as OTLP sends it. */
  timeUnixNano: bigint;
  value: number;
}

/**
 * What one OTLP export request decodes to: its number points, and how many data points were
 * refused and why (OTLP's partial success). Histograms and summaries are kept as their `.count`
 * and `.sum` series, as Prometheus keeps `_count` and `_sum`; their buckets are not stored.
 */
export class MetricBatch {
  readonly points: MetricPoint[] = [];
  rejected = 0;
  private readonly reasons = new Set<string>();

  add(point: MetricPoint): void {
    if (!Number.isFinite(point.value)) {
      this.reject(1, 'non-finite values are not stored');
      return;
    }
    this.points.push(point);
  }

  reject(count: number, reason: string): void {
    this.rejected += count;
    this.reasons.add(reason);
  }

  /** One message for the partial-success answer, naming each distinct reason once. */
  get rejectionMessage(): string {
    return [...this.reasons].join('; ');
  }
}

/** OTLP's DataPointFlags: bit 0 marks a point that carries no recorded value. */
export const FLAG_NO_RECORDED_VALUE = 1;
