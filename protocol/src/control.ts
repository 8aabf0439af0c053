/**
 * The `io.cybercorp.control.v1` OpAMP custom capability. Each message is an OpAMP
 * `CustomMessage` whose `capability` is CONTROL_CAPABILITY, whose `type` is the message type
 * below, and whose `data` is the UTF-8 JSON of the matching schema.
 */
import { z } from 'zod';
import { AGENT_ERROR_CODES } from './errors.js';

export const CONTROL_CAPABILITY = 'io.cybercorp.control.v1';
/**
 * Reported as an additional custom capability (next to CONTROL_CAPABILITY) by agents that can
 * list and act on desktop windows. Window commands still travel under CONTROL_CAPABILITY; the
 * control API answers window routes with 409 `capability_missing` when this one is absent.
 */
export const WINDOWS_CAPABILITY = 'io.cybercorp.windows.v1';

/**
 * Non-identifying agent attribute saying why an agent does not offer window control (no X
 * display, no EWMH window manager, switched off locally), so the API's 409 can say why.
 */
export const WINDOWS_UNAVAILABLE_ATTRIBUTE = 'cybercorp.windows.unavailable_reason';

/** `capability_missing` detail for an agent without window control. */
export function windowsMissingDetail(agentId: string, reason: string | undefined): string {
  const base = `agent ${agentId} does not report ${WINDOWS_CAPABILITY}`;
  return reason ? `${base}: ${reason}` : base;
}

export const ProcessAction = z.enum(['terminate', 'kill', 'suspend', 'resume']);
export type ProcessAction = z.infer<typeof ProcessAction>;

/** The POSIX signal each process action sends. */
export const SIGNAL_OF_ACTION: Record<ProcessAction, NodeJS.Signals> = {
  terminate: 'SIGTERM',
  kill: 'SIGKILL',
  suspend: 'SIGSTOP',
  resume: 'SIGCONT',
};

export const WindowAction = z.enum(['focus', 'minimize', 'maximize', 'restore', 'close']);
export type WindowAction = z.infer<typeof WindowAction>;

/** X11 window ids travel as hex strings such as `0x1a00003`; native backends use their own ids. */
export const WindowId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_:.-]+$/);

export const Pid = z
  .number()
  .int()
  .positive()
  .max(2 ** 31 - 1);

export const ProcessInfo = z.object({
  pid: z.number().int().nonnegative(),
  ppid: z.number().int().nonnegative(),
  name: z.string(),
  user: z.string(),
  /** One-letter state as in /proc/<pid>/stat: R, S, D, T, t, Z, I, … */
  state: z.string(),
  cpuPercent: z.number().nonnegative(),
  memoryBytes: z.number().int().nonnegative(),
  command: z.string(),
  startedAt: z.string().nullable(),
});
export type ProcessInfo = z.infer<typeof ProcessInfo>;

export const WindowBounds = z.object({
  x: z.number().int(),
  y: z.number().int(),
  width: z.number().int().nonnegative(),
  height: z.number().int().nonnegative(),
});

export const WindowInfo = z.object({
  id: WindowId,
  title: z.string(),
  pid: z.number().int().positive().nullable(),
  bounds: WindowBounds,
  active: z.boolean(),
  minimized: z.boolean(),
  maximized: z.boolean(),
});
export type WindowInfo = z.infer<typeof WindowInfo>;

const commandBase = {
  commandId: z.uuid(),
  /** Unix epoch milliseconds after which the agent must refuse the command. */
  deadline: z.number().int().positive(),
};

export const ProcessListCommand = z.object({ type: z.literal('process.list'), ...commandBase });
export const ProcessGetCommand = z.object({
  type: z.literal('process.get'),
  ...commandBase,
  pid: Pid,
});
/**
 * A process's start time as ProcessInfo.startedAt gives it. An action that carries the one the
 * caller saw is refused with `process_changed` when the pid now belongs to another process.
 */
export const StartedAt = z.iso.datetime({ offset: true });

export const ProcessSignalCommand = z.object({
  type: z.literal('process.signal'),
  ...commandBase,
  pid: Pid,
  action: ProcessAction,
  startedAt: StartedAt.optional(),
});

/**
 * What the agent answers to a `process.signal`: the signals it sent (a stopped process that is
 * terminated also gets SIGCONT, so that it can act on the SIGTERM) and, for `suspend` and
 * `resume`, the state the process was seen in afterwards (`gone` once it has exited).
 */
export const ProcessSignalResult = z.object({
  signals: z.array(z.string()),
  state: z.enum(['stopped', 'running', 'gone']).optional(),
});
export type ProcessSignalResult = z.infer<typeof ProcessSignalResult>;
export const WindowListCommand = z.object({ type: z.literal('window.list'), ...commandBase });
export const WindowActionCommand = z.object({
  type: z.literal('window.action'),
  ...commandBase,
  windowId: WindowId,
  action: WindowAction,
});

export const ControlCommand = z.discriminatedUnion('type', [
  ProcessListCommand,
  ProcessGetCommand,
  ProcessSignalCommand,
  WindowListCommand,
  WindowActionCommand,
]);
export type ControlCommand = z.infer<typeof ControlCommand>;
export type ControlCommandType = ControlCommand['type'];
export const COMMAND_TYPES = [
  'process.list',
  'process.get',
  'process.signal',
  'window.list',
  'window.action',
] as const satisfies readonly ControlCommandType[];

export const AgentErrorCode = z.enum(AGENT_ERROR_CODES);

export const CommandResult = z.discriminatedUnion('ok', [
  z.object({
    type: z.literal('result'),
    commandId: z.uuid(),
    ok: z.literal(true),
    /** process.list → ProcessInfo[]; process.get → ProcessInfo; window.list → WindowInfo[]; actions → {} */
    data: z.unknown(),
  }),
  z.object({
    type: z.literal('result'),
    commandId: z.uuid(),
    ok: z.literal(false),
    error: z.object({ code: AgentErrorCode, message: z.string().max(4096) }),
  }),
]);
export type CommandResult = z.infer<typeof CommandResult>;

export const WindowEvent = z.object({
  type: z.literal('window.event'),
  /** What changed; `windows` is always the full current list so a receiver never has to merge. */
  change: z.enum(['added', 'removed', 'changed', 'active', 'snapshot']),
  windowId: WindowId.optional(),
  windows: z.array(WindowInfo),
  at: z.number().int().positive(),
});
export type WindowEvent = z.infer<typeof WindowEvent>;

export const AgentMessage = z.union([CommandResult, WindowEvent]);

export class ControlMessageError extends Error {
  readonly code = 'validation_failed';
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeControlData(
  message: ControlCommand | CommandResult | WindowEvent,
): Uint8Array {
  return encoder.encode(JSON.stringify(message));
}

function parseJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(data));
  } catch (error) {
    throw new ControlMessageError(`custom message data is not UTF-8 JSON: ${String(error)}`);
  }
}

export function decodeControlCommand(data: Uint8Array): ControlCommand {
  const parsed = ControlCommand.safeParse(parseJson(data));
  if (!parsed.success) throw new ControlMessageError(z.prettifyError(parsed.error));
  return parsed.data;
}

export function decodeAgentMessage(data: Uint8Array): CommandResult | WindowEvent {
  const parsed = AgentMessage.safeParse(parseJson(data));
  if (!parsed.success) throw new ControlMessageError(z.prettifyError(parsed.error));
  return parsed.data;
}
