import { createHash } from 'node:crypto';
import type {
  AttributeValue,
  Attributes,
  MetricBatch,
  MetricPoint,
} from '../ingest/metric-batch.js';
import type {
  BucketRow,
  MetricHistoryRepository,
  SampleColumns,
  SeriesKey,
  StoredSeries,
} from '../repositories/metric-history.js';
import type { HistoryRetention } from './history-retention.js';
import { isProcessMetric, type Inventory } from './inventory.js';

export const METRICS_TABLE = 'system_metrics';
/** The most points one series of a history answer has: the step grows to keep under it. */
export const MAX_POINTS_PER_SERIES = 2000;
export const MAX_SERIES_PER_ANSWER = 200;
/** Series ids kept in memory; beyond it the cache starts over (ids are found again in SQL). */
const SERIES_CACHE_CAPACITY = 200_000;
const SAMPLES_PER_STATEMENT = 20_000;
const SERIES_PER_STATEMENT = 2_000;

export const HOST_NAME = 'host.name';
export const SERVICE_INSTANCE_ID = 'service.instance.id';

export interface IngestResult {
  accepted: number;
  rejected: number;
  message: string;
}

export interface HistoryQuery {
  agentId: string;
  name: string;
  from: Date;
  to: Date;
  /** The step asked for; raised so no series has more than MAX_POINTS_PER_SERIES points. */
  stepSeconds?: number;
}

export interface HistorySeries {
  attributes: Attributes;
  points: { time: string; avg: number; max: number }[];
}

export interface HistoryAnswer {
  agentId: string;
  name: string;
  from: string;
  to: string;
  stepSeconds: number;
  series: HistorySeries[];
  /** More series exist than MAX_SERIES_PER_ANSWER; the lowest ids are answered. */
  truncated: boolean;
}

/**
 * The metrics history in PostgreSQL: OTLP points in, downsampled series out. A point is kept
 * under its series (host, agent, name, point attributes); points of a day outside the
 * partitions kept are refused with a reason (OTLP partial success) instead of failing the batch.
 */
export class MetricHistory {
  /** Series ids by the series as an export names it (see `ingest`). */
  private seriesCache = new Map<string, string>();

  constructor(
    private readonly repository: MetricHistoryRepository,
    private readonly retention: Pick<HistoryRetention, 'window'>,
    private readonly inventory: Pick<Inventory, 'observeProcessPoints'>,
  ) {}

  /**
   * Keeps an export: host metrics as series samples, the per-process metrics of the agent's
   * top processes as inventory snapshots (one series per pid would grow without bound).
   */
  async ingest(batch: MetricBatch): Promise<IngestResult> {
    const { oldest, end } = this.retention.window(METRICS_TABLE);
    // Column by column, as the insert takes them; a series id the cache did not have is filled
    // in once resolved, from `missing` (its row and cache key).
    const samples: SampleColumns = { epochSeconds: [], seriesIds: [], values: [] };
    const missing: { row: number; cacheKey: string }[] = [];
    /** Series not in the cache: their key, and every cache key that names them. */
    const unknown = new Map<string, { key: SeriesKey; cacheKeys: string[] }>();
    const processPoints: MetricPoint[] = [];
    const resourcePrefixes = new Map<Attributes, string>();
    const pending = new Set<string>();
    for (const point of batch.points) {
      const host = point.resource[HOST_NAME];
      if (typeof host !== 'string' || host === '') {
        batch.reject(1, `resource without ${HOST_NAME}`);
        continue;
      }
      const epochMs = Number(point.timeUnixNano / 1_000_000n);
      if (epochMs < oldest.getTime()) {
        batch.reject(1, 'points older than HISTORY_RETENTION_DAYS are not kept');
        continue;
      }
      if (epochMs >= end.getTime()) {
        batch.reject(1, 'points dated days ahead of the server clock are not kept');
        continue;
      }
      if (isProcessMetric(point.name)) {
        processPoints.push(point);
        continue;
      }
      const instance = point.resource[SERVICE_INSTANCE_ID];
      const agentId = typeof instance === 'string' ? instance : null;
      let prefix = resourcePrefixes.get(point.resource);
      if (prefix === undefined) {
        prefix = JSON.stringify([host, agentId]);
        resourcePrefixes.set(point.resource, prefix);
      }
      // The attributes as sent, not canonical: an exporter sends a series the same way each
      // time, so the cache answers it without sorting and hashing; another order of the same
      // attributes misses once and finds the same series by its fingerprint.
      const cacheKey = `${prefix}${JSON.stringify(point.name)}${JSON.stringify(point.attributes)}`;
      const seriesId = this.seriesCache.get(cacheKey);
      if (seriesId === undefined) missing.push({ row: samples.seriesIds.length, cacheKey });
      if (seriesId === undefined && !pending.has(cacheKey)) {
        pending.add(cacheKey);
        const key = seriesKey(host, agentId, point);
        const fingerprint = key.fingerprint.toString('hex');
        const entry = unknown.get(fingerprint);
        if (entry) entry.cacheKeys.push(cacheKey);
        else unknown.set(fingerprint, { key, cacheKeys: [cacheKey] });
      }
      samples.epochSeconds.push(Number(point.timeUnixNano) / 1e9);
      samples.seriesIds.push(seriesId ?? '');
      samples.values.push(point.value);
    }
    await this.inventory.observeProcessPoints(processPoints);
    const ids = await this.resolveSeries([...unknown.values()]);
    for (const { row, cacheKey } of missing) samples.seriesIds[row] = ids.get(cacheKey)!;
    const count = samples.values.length;
    for (let start = 0; start < count; start += SAMPLES_PER_STATEMENT) {
      const stop = start + SAMPLES_PER_STATEMENT;
      await this.repository.insertSamples(
        count <= SAMPLES_PER_STATEMENT
          ? samples
          : {
              epochSeconds: samples.epochSeconds.slice(start, stop),
              seriesIds: samples.seriesIds.slice(start, stop),
              values: samples.values.slice(start, stop),
            },
      );
    }
    return {
      accepted: count + processPoints.length,
      rejected: batch.rejected,
      message: batch.rejectionMessage,
    };
  }

  async downsample(query: HistoryQuery): Promise<HistoryAnswer> {
    const spanSeconds = Math.max(1, (query.to.getTime() - query.from.getTime()) / 1000);
    const stepSeconds = Math.max(
      query.stepSeconds ?? 1,
      Math.ceil(spanSeconds / MAX_POINTS_PER_SERIES),
    );
    // One series more than an answer holds says whether it is cut, without a count(*).
    const found = await this.repository.series(
      query.agentId,
      query.name,
      MAX_SERIES_PER_ANSWER + 1,
    );
    const series = found.slice(0, MAX_SERIES_PER_ANSWER);
    const rows = await this.repository.buckets({
      seriesIds: series.map((s) => s.id),
      from: query.from,
      to: query.to,
      stepSeconds,
    });
    return {
      agentId: query.agentId,
      name: query.name,
      from: query.from.toISOString(),
      to: query.to.toISOString(),
      stepSeconds,
      series: groupBySeries(series, rows),
      truncated: found.length > MAX_SERIES_PER_ANSWER,
    };
  }

  /**
   * Finds (or creates) the ids of these series, caches them under each of their cache keys and
   * answers them by cache key (the batch at hand does not depend on the cache keeping them).
   */
  private async resolveSeries(
    series: readonly { key: SeriesKey; cacheKeys: string[] }[],
  ): Promise<Map<string, string>> {
    const resolved = new Map<string, string>();
    for (let start = 0; start < series.length; start += SERIES_PER_STATEMENT) {
      const chunk = series.slice(start, start + SERIES_PER_STATEMENT);
      const ids = await this.repository.seriesIds(chunk.map((entry) => entry.key));
      for (const { key, cacheKeys } of chunk) {
        const id = ids.get(key.fingerprint.toString('hex'))!;
        for (const cacheKey of cacheKeys) resolved.set(cacheKey, id);
      }
    }
    if (this.seriesCache.size + resolved.size > SERIES_CACHE_CAPACITY) this.seriesCache = new Map();
    for (const [cacheKey, id] of resolved) this.seriesCache.set(cacheKey, id);
    return resolved;
  }
}

function seriesKey(host: string, agentId: string | null, point: MetricPoint): SeriesKey {
  const fingerprint = createHash('sha256')
    .update(canonicalJson([host, agentId, point.name, point.attributes]))
    .digest();
  return { fingerprint, host, agentId, name: point.name, attributes: point.attributes };
}

/** JSON with object keys sorted, so equal attribute sets hash equally whatever their order. */
export function canonicalJson(value: AttributeValue | (AttributeValue | Attributes)[]): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k]!)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The points of each series, in the order the series were listed; a series without any is left out. */
function groupBySeries(
  series: readonly StoredSeries[],
  rows: readonly BucketRow[],
): HistorySeries[] {
  const points = new Map<string, HistorySeries['points']>();
  for (const row of rows) {
    let list = points.get(row.seriesId);
    if (!list) {
      list = [];
      points.set(row.seriesId, list);
    }
    list.push({ time: new Date(row.bucketMs).toISOString(), avg: row.avg, max: row.max });
  }
  return series.flatMap((s) => {
    const list = points.get(s.id);
    return list ? [{ attributes: s.attributes, points: list }] : [];
  });
}
