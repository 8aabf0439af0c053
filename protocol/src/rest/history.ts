import { z } from 'zod';
import { WindowInfo } from '../control.js';
import { instant, keysetPage, text } from './text.js';

/**
 * A step as Prometheus writes it: `30s`, `5m`, `1h`, `1d`, or plain seconds; a positive amount,
 * so that the pattern alone (which the OpenAPI document shows) says what is accepted.
 */
const STEP = /^([1-9][0-9]{0,6})(s|m|h|d)?$/;
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

export const ProcessListQuery = z.strictObject({
  at: instant
    .optional()
    .describe('answer what was running then, from the inventory history, instead of live'),
});
export type ProcessListQuery = z.input<typeof ProcessListQuery>;

export const ProcessHistoryEntry = z.object({
  pid: z.number().int(),
  name: z.string().nullable(),
  user: z.string().nullable(),
  cpuUtilization: z.number().nullable().describe('share of all CPUs, 0–1'),
  memoryBytes: z.number().nullable(),
  seenAt: z.string().describe('when the snapshot (or the action) recorded it'),
  actedOn: z.string().nullable().describe('the action taken on it then, e.g. process.kill'),
});

/** What an inventory list `?at=` answers besides its items: the instant asked and its snapshot. */
const inventorySnapshot = {
  at: z.string(),
  /** When the snapshot answered was taken; null when none was kept in the day before `at`. */
  snapshotAt: z.string().nullable(),
};

export const ProcessHistory = z.object({
  ...inventorySnapshot,
  items: z.array(ProcessHistoryEntry),
});
export type ProcessHistory = z.infer<typeof ProcessHistory>;

/** The windows open at `at`, as the window event before it listed them; the live list's items. */
export const WindowHistory = z.object({
  ...inventorySnapshot,
  items: z.array(WindowInfo),
  source: z.literal('history'),
});
export type WindowHistory = z.infer<typeof WindowHistory>;

export const EventQuery = z.strictObject({
  agentId: text(0, 200).optional(),
  type: text(0, 200)
    .optional()
    .describe('agent.connected, agent.disconnected, or an audited action such as process.kill'),
  since: instant.optional().describe('events at or after this instant'),
  until: instant.optional().describe('events at or before this instant'),
  ...keysetPage,
});
export type EventQuery = z.input<typeof EventQuery>;

export const HistoryEvent = z.object({
  id: z.string(),
  at: z.string(),
  type: z.string(),
  agentId: z.string().nullable(),
  actor: z.string().nullable(),
  outcome: z.string().nullable(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  commandId: z.string().nullable(),
  auditId: z.string().nullable().describe('the audit row this event was made from'),
  details: z.record(z.string(), z.unknown()),
});
export type HistoryEvent = z.infer<typeof HistoryEvent>;

export const EventList = z.object({
  items: z.array(HistoryEvent),
  nextCursor: z.string().nullable(),
});
export type EventList = z.infer<typeof EventList>;
