import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Attributes } from '../ingest/metric-batch.js';

/** A series before it has an id: what identifies it, and the hash of that. */
export interface SeriesKey {
  fingerprint: Buffer;
  host: string;
  agentId: string | null;
  name: string;
  attributes: Attributes;
}

/** Samples to insert, column by column (the shape `unnest` takes). */
export interface SampleColumns {
  /** Seconds since the epoch, with the fraction (microseconds survive in a double). */
  epochSeconds: number[];
  seriesIds: string[];
  values: number[];
}

export interface StoredSeries {
  id: string;
  attributes: Attributes;
}

export interface BucketQuery {
  seriesIds: readonly string[];
  from: Date;
  to: Date;
  stepSeconds: number;
}

export interface BucketRow {
  seriesId: string;
  /** The bucket's start, in milliseconds since the epoch. */
  bucketMs: number;
  avg: number;
  max: number;
}

/**
 * A numeric array as PostgreSQL's array text (`{1,2.5,3}`), made in one join: pg's own array
 * encoding quotes and escapes each element, which showed in profiles of the ingest.
 * Only finite numbers and integer ids reach here, whose JS text PostgreSQL reads exactly.
 */
function arrayLiteral(values: readonly (number | string)[]): string {
  return `{${values.join(',')}}`;
}

export class MetricHistoryRepository {
  constructor(private readonly db: pg.Pool) {}

  /**
   * The ids of these series, created when new. `DO UPDATE` of a column to itself makes the
   * statement return the ids of rows that already existed, in one round trip.
   */
  async seriesIds(keys: readonly SeriesKey[]): Promise<Map<string, string>> {
    const { rows } = await this.db.query<{ id: string; fingerprint: Buffer }>(
      `INSERT INTO metric_series (fingerprint, host, agent_id, name, attributes)
       SELECT * FROM unnest($1::bytea[], $2::text[], $3::text[], $4::text[], $5::jsonb[])
       ON CONFLICT (fingerprint) DO UPDATE SET fingerprint = EXCLUDED.fingerprint
       RETURNING id, fingerprint`,
      [
        keys.map((k) => k.fingerprint),
        keys.map((k) => k.host),
        keys.map((k) => k.agentId),
        keys.map((k) => k.name),
        keys.map((k) => JSON.stringify(k.attributes)),
      ],
    );
    return new Map(rows.map((row) => [row.fingerprint.toString('hex'), row.id]));
  }

  /**
   * `COPY … FROM STDIN` of the whole batch in text format: PostgreSQL's fastest way in, with
   * no per-row statement work (an INSERT of unnested arrays reached under half its rate in
   * bench/history-ingest). A failed COPY leaves its connection unusable, so it is discarded.
   */
  async insertSamples(samples: SampleColumns): Promise<void> {
    let rows = '';
    // An export's points share a few instants: each is formatted once.
    let lastEpoch = NaN;
    let lastTime = '';
    for (let i = 0; i < samples.values.length; i++) {
      const epoch = samples.epochSeconds[i]!;
      if (epoch !== lastEpoch) {
        lastEpoch = epoch;
        lastTime = new Date(epoch * 1000).toISOString();
      }
      rows += `${lastTime}\t${samples.seriesIds[i]!}\t${samples.values[i]!}\n`;
    }
    const client = await this.db.connect();
    try {
      await pipeline(
        Readable.from([rows]),
        client.query(copyFrom('COPY system_metrics (time, series_id, value) FROM STDIN')),
      );
    } catch (error) {
      client.release(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
    client.release();
  }

  /** The agent's series of one metric, at most `limit`, lowest id first. */
  async series(agentId: string, name: string, limit: number): Promise<StoredSeries[]> {
    const { rows } = await this.db.query<StoredSeries>(
      `SELECT id, attributes FROM metric_series WHERE agent_id = $1 AND name = $2
       ORDER BY id LIMIT $3`,
      [agentId, name, limit],
    );
    return rows;
  }

  /**
   * avg and max per step of each of these series in [from, to): an index-only scan of
   * (series_id, time) INCLUDE (value) within the partitions the range touches, grouped by
   * series and bucket alone (the series' attributes are read once, by `series`). The bucket
   * comes back as epoch milliseconds, which costs less to parse than a timestamptz text.
   */
  async buckets(query: BucketQuery): Promise<BucketRow[]> {
    if (query.seriesIds.length === 0) return [];
    const { rows } = await this.db.query<{
      seriesId: string;
      bucketMs: string;
      avg: number;
      max: number;
    }>(
      `SELECT series_id AS "seriesId", (extract(epoch FROM bucket) * 1000)::bigint AS "bucketMs",
              avg, max
       FROM (SELECT series_id, date_bin(make_interval(secs => $4), time, $2::timestamptz) AS bucket,
                    avg(value) AS avg, max(value) AS max
             FROM system_metrics
             WHERE series_id = ANY ($1::bigint[]) AND time >= $2 AND time < $3
             GROUP BY series_id, bucket) AS b
       ORDER BY series_id, bucket`,
      [arrayLiteral(query.seriesIds), query.from, query.to, query.stepSeconds],
    );
    return rows.map((row) => ({ ...row, bucketMs: Number(row.bucketMs) }));
  }
}
