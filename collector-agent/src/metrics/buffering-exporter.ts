import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type {
  AggregationOption,
  AggregationTemporality,
  InstrumentType,
  PushMetricExporter,
  ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import type { BufferStats, ExportBuffer } from './export-buffer.js';
import { isPermanentExportError } from './export-errors.js';

/**
 * Sends per export interval, the fresh batch included: after an outage the backlog goes out at
 * up to this many times the normal rate, so a fleet coming back does not flood its Collector
 * (whose memory limiter answering UNAVAILABLE also ends a round). A full default buffer
 * (about 1,265 intervals of a measured 26.5 KB, see prometheus/prometheus.yml) is caught up in
 * about 320 intervals; the oldest waiting sample only gets younger meanwhile.
 */
export const SENDS_PER_INTERVAL = 5;

/** A send either went out, was refused for good (the Collector answered), or was not answered. */
type Resource = ResourceMetrics['resource'];
/** A batch produced now, with its place in production order. */
type HeldBatch = { sequence: number; batch: ResourceMetrics };

type SendOutcome = { status: 'sent' } | { status: 'refused' | 'unanswered'; error: string };

/**
 * What the exporter tells its log about each send, with the buffer's state at that moment (a
 * function: most sends are answered and logged by no line, so the state is taken only for one).
 */
export interface ExportOutcomes {
  /** The Collector took the batch, or refused it for good: either way it answered. */
  answered(stats: () => BufferStats): void;
  /** The Collector was not reached, or asked to be tried later. */
  unanswered(error: string, stats: () => BufferStats): void;
}

const UNHEARD: ExportOutcomes = { answered: () => undefined, unanswered: () => undefined };

/**
 * Offline mode: hands every interval's batch to the Collector through `inner`, and keeps what
 * could not be delivered in `buffer` to send later, oldest first.
 *
 * The reader gets its answer at once: the batch is accepted, for delivery now or later. Holding
 * the callback for a send would make it wait behind the backlog, and the periodic reader skips a
 * whole cycle while the previous export has not answered (sdk-metrics 2.x) and gives up on one
 * after its export timeout — a gap either way. Each send is bounded by the OTLP exporter's own
 * timeout (OTEL_EXPORTER_OTLP_TIMEOUT), and there is never more than one in flight, so batches
 * arrive in production order. Points keep their original timestamps: re-sent cumulative sums
 * are the same points, and delta points (if that temporality is chosen) each cover their own
 * interval once.
 *
 * When the buffer is empty and nothing is in flight, a batch goes straight out without being
 * encoded, which is the normal case. Each interval allows SENDS_PER_INTERVAL sends; the first
 * failure that may pass later ends the round, and a batch the Collector refused for good
 * (malformed) is dropped and counted instead of blocking the ones behind it forever.
 *
 * After a send failed for a reason that may pass, the next round first asks with an empty
 * export (the resource and no metrics) whether the Collector answers again, and sends held
 * batches only once it does. Serializing a batch is most of an export's cost (about 2 ms of
 * 8 per interval, measured in bench/agent-overhead), so an outage no longer pays it every
 * interval for a batch that cannot go out.
 */
export class BufferingExporter implements PushMetricExporter {
  readonly selectAggregationTemporality?: (type: InstrumentType) => AggregationTemporality;
  readonly selectAggregation?: (type: InstrumentType) => AggregationOption;
  private sending: Promise<void> | undefined;
  /** The latest batch on its way into the buffer (a file write, with the spool). */
  private handoff: Promise<void> = Promise.resolve();
  private budget = 0;
  private closing = false;
  /** False from a send that failed for a reason that may pass until one goes out again. */
  private collectorAnswers = true;

  private readonly outcomes: ExportOutcomes;
  private readonly sendsPerInterval: number;

  constructor(
    private readonly inner: PushMetricExporter,
    private readonly buffer: ExportBuffer,
    { outcomes = UNHEARD, sendsPerInterval = SENDS_PER_INTERVAL } = {},
  ) {
    this.outcomes = outcomes;
    this.sendsPerInterval = sendsPerInterval;
    this.selectAggregationTemporality = inner.selectAggregationTemporality?.bind(inner);
    this.selectAggregation = inner.selectAggregation?.bind(inner);
  }

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    const sequence = this.buffer.reserveSequence();
    this.budget = this.sendsPerInterval;
    if (this.sending === undefined && this.buffer.isEmpty) {
      this.startSending(metrics.resource, { sequence, batch: metrics });
    } else {
      this.handoff = this.buffer
        .add(sequence, metrics)
        .then(() => this.startSending(metrics.resource));
    }
    resultCallback({ code: ExportResultCode.SUCCESS });
  }

  /** Waits for the send in flight (and the sends of this round), not for the whole backlog. */
  async forceFlush(): Promise<void> {
    await this.handoff;
    await this.sending;
    await this.buffer.settled();
    await this.inner.forceFlush();
  }

  async shutdown(): Promise<void> {
    this.closing = true;
    await this.handoff;
    await this.sending;
    await this.buffer.close();
    await this.inner.shutdown();
  }

  /** `resource` is the latest batch's: what an empty export asks with. */
  private startSending(resource: Resource, fresh?: HeldBatch): void {
    if (this.sending !== undefined || this.closing) {
      if (fresh) void this.buffer.add(fresh.sequence, fresh.batch);
      return;
    }
    this.sending = this.sendRound(resource, fresh).finally(() => {
      this.sending = undefined;
    });
  }

  private async sendRound(resource: Resource, fresh?: HeldBatch): Promise<void> {
    if (fresh) {
      this.budget -= 1;
      if (!(await this.deliver(fresh.batch))) {
        await this.buffer.add(fresh.sequence, fresh.batch);
        return;
      }
    }
    if (this.buffer.isEmpty || !(await this.collectorAnswersAgain(resource))) return;
    while (this.budget > 0 && !this.closing) {
      const next = await this.buffer.oldest();
      if (!next) return;
      this.budget -= 1;
      if (!(await this.deliver(next.batch))) return;
      await this.buffer.remove(next.sequence);
    }
  }

  /** Whether held batches may go out: the last send did, or an empty export does now. */
  private async collectorAnswersAgain(resource: Resource): Promise<boolean> {
    if (!this.collectorAnswers) await this.send({ resource, scopeMetrics: [] });
    return this.collectorAnswers;
  }

  /**
   * Sends one batch; whether the Collector answered. A batch it refused for good is dropped
   * and counted: it leaves the buffer as a delivered one does.
   */
  private async deliver(batch: ResourceMetrics): Promise<boolean> {
    const outcome = await this.send(batch);
    if (outcome.status === 'refused') this.buffer.countRejected(outcome.error);
    return outcome.status !== 'unanswered';
  }

  private async send(batch: ResourceMetrics): Promise<SendOutcome> {
    const outcome = await this.attempt(batch);
    this.collectorAnswers = outcome.status !== 'unanswered';
    const stats = () => this.buffer.stats();
    if (outcome.status === 'unanswered') this.outcomes.unanswered(outcome.error, stats);
    else this.outcomes.answered(stats);
    return outcome;
  }

  private attempt(batch: ResourceMetrics): Promise<SendOutcome> {
    return new Promise((resolve) => {
      try {
        this.inner.export(batch, (result) => {
          // The OTLP exporter pins its own copy of @opentelemetry/core: same numbers, two enums.
          // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-comparison
          if (result.code === ExportResultCode.SUCCESS) resolve({ status: 'sent' });
          else
            resolve({
              status: isPermanentExportError(result.error) ? 'refused' : 'unanswered',
              error: result.error?.message ?? 'unknown error',
            });
        });
      } catch (error) {
        resolve({ status: 'unanswered', error: String(error) });
      }
    });
  }
}
