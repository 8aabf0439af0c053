import { z } from 'zod';
import { text } from './text.js';

/** An absolute instant: RFC 3339 with `Z` or an offset, never a local time. */
const instant = z.iso.datetime({ offset: true });

/** A step as Prometheus writes it: `30s`, `5m`, `1h`, `1d`, or plain seconds. */
const STEP = /^([0-9]{1,7})(s|m|h|d)?$/;
const STEP_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

export const MetricHistoryQuery = z.strictObject({
  name: text(1, 255)
    .regex(/^[A-Za-z_][A-Za-z0-9_.:/-]*$/, 'must be an OTel metric name')
    .describe('OTel metric name, e.g. system.cpu.utilization'),
  from: instant.optional().describe('start of the range (default: an hour before `to`)'),
  to: instant.optional().describe('end of the range (default: now)'),
  step: z
    .string()
    .regex(STEP, 'must be like 30s, 5m, 1h or a number of seconds')
    .transform((raw) => {
      const [, amount, unit] = STEP.exec(raw)!;
      return Number(amount) * STEP_SECONDS[(unit ?? 's') as keyof typeof STEP_SECONDS];
    })
    .pipe(z.number().int().min(1))
    .optional()
    .describe('bucket width; raised so that no series has more than 2000 points'),
});
export type MetricHistoryQuery = z.input<typeof MetricHistoryQuery>;

export const MetricHistoryPoint = z.object({
  time: z.string().describe('start of the bucket'),
  avg: z.number(),
  max: z.number(),
});

export const MetricHistorySeries = z.object({
  attributes: z.record(z.string(), z.unknown()).describe("the points' OTel attributes"),
  points: z.array(MetricHistoryPoint),
});

export const MetricHistory = z.object({
  agentId: z.string(),
  name: z.string(),
  from: z.string(),
  to: z.string(),
  stepSeconds: z.number().int(),
  series: z.array(MetricHistorySeries),
  truncated: z.boolean().describe('more series exist than were answered (200)'),
});
export type MetricHistory = z.infer<typeof MetricHistory>;
