import {
  ControlMessageError,
  decodeControlCommand,
  type CommandResult,
  type ControlCommand,
  type ProcessInfo,
  type WindowEvent,
} from '@cybercorp/protocol';
import { BoundedMemo } from './bounded-memo.js';
import { ControlError } from './control-error.js';
import { ProcessActions, type ProcessActionsOptions } from './process-actions.js';
import { RecentProcessList } from './recent-process-list.js';
import type { ProcessController } from './process-controller.js';
import type { ProcessSample, ProcessTable } from './processes.js';
import type { SafetyPolicy } from './safety-policy.js';
import { WindowControlError, type WindowChangeEvent, type WindowController } from './windows.js';

export interface CommandExecutorOptions {
  table: ProcessTable;
  policy: SafetyPolicy;
  processes: ProcessController;
  /** Undefined when this host has no usable desktop. */
  windows?: WindowController | undefined;
  /** Local config switch for window control (`control.windows.enabled`). */
  windowsEnabled: () => boolean;
  now?: () => number;
  /** How many commandIds to remember for at-most-once execution. */
  memory?: number;
  /** `process.list` may answer from a table scan this recent (0: always scan). */
  processListMaxAgeMs?: number;
  /** How a suspended or resumed process is watched until it shows its new state. */
  processActions?: ProcessActionsOptions;
}

export interface ExecutorLog {
  warn(message: string, fields?: Record<string, unknown>): void;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Runs control commands at most once each. The remembered result is returned for a repeated
 * commandId, including while the first run is still in flight, and is kept past the deadline so
 * a late retry is answered rather than run.
 */
export class CommandExecutor {
  private readonly results: BoundedMemo<string, Promise<CommandResult>>;
  private readonly now: () => number;
  private readonly processList: RecentProcessList;
  private readonly processActions: ProcessActions;
  /** The wire form of the latest scan, shared by every list answered from that scan. */
  private listed: { samples: ProcessSample[]; infos: readonly ProcessInfo[] } | undefined;
  /** Counts commands that actually ran (not answered from memory); for diagnostics and tests. */
  executed = 0;

  constructor(private readonly options: CommandExecutorOptions) {
    this.results = new BoundedMemo(options.memory ?? 10_000);
    this.now = options.now ?? Date.now;
    this.processList = new RecentProcessList(
      options.table,
      options.processListMaxAgeMs ?? 0,
      this.now,
    );
    this.processActions = new ProcessActions(
      options.processes,
      options.table,
      options.processActions,
    );
  }

  /**
   * Decodes and runs one custom-message payload. Returns undefined only when the payload does
   * not even carry a commandId to answer to.
   */
  async handle(data: Uint8Array, log?: ExecutorLog): Promise<CommandResult | undefined> {
    let command: ControlCommand;
    try {
      command = decodeControlCommand(data);
    } catch (error) {
      if (!(error instanceof ControlMessageError)) throw error;
      const commandId = commandIdOf(data);
      log?.warn('invalid control command', { commandId, reason: error.message });
      if (commandId === undefined) return undefined;
      return failure(commandId, new ControlError('validation_failed', error.message));
    }
    return this.execute(command);
  }

  execute(command: ControlCommand): Promise<CommandResult> {
    const remembered = this.results.get(command.commandId);
    if (remembered) return remembered;
    const result = this.run(command);
    this.results.set(command.commandId, result);
    return result;
  }

  private async run(command: ControlCommand): Promise<CommandResult> {
    if (this.now() > command.deadline) {
      return failure(
        command.commandId,
        new ControlError(
          'deadline_exceeded',
          `deadline ${new Date(command.deadline).toISOString()} has passed`,
        ),
      );
    }
    this.executed++;
    try {
      return {
        type: 'result',
        commandId: command.commandId,
        ok: true,
        data: await this.dispatch(command),
      };
    } catch (error) {
      if (error instanceof ControlError) return failure(command.commandId, error);
      if (error instanceof WindowControlError) {
        return failure(command.commandId, new ControlError(error.code, error.message));
      }
      return failure(command.commandId, new ControlError('action_failed', String(error)));
    }
  }

  private async dispatch(command: ControlCommand): Promise<unknown> {
    switch (command.type) {
      case 'process.list': {
        const samples = await this.processList.list();
        if (this.listed?.samples !== samples) {
          // Frozen: remembered results of several commands may point at the same list.
          const infos = Object.freeze(samples.map((s) => Object.freeze(toProcessInfo(s))));
          this.listed = { samples, infos };
        }
        return this.listed.infos;
      }
      case 'process.get':
        return toProcessInfo(await this.mustGet(command.pid));
      case 'process.signal': {
        const target = await this.mustGet(command.pid);
        if (command.startedAt !== undefined) assertSameProcess(target, command.startedAt);
        const decision = await this.options.policy.check(target);
        if (!decision.allowed) throw new ControlError(decision.code, decision.message);
        return this.processActions.perform(target, command.action);
      }
      case 'window.list':
        return (await this.windowController()).list();
      case 'window.action': {
        const windows = await this.windowController();
        await this.assertWindowOwnerAllowed(windows, command.windowId);
        await windows.act(command.windowId, command.action);
        return {};
      }
    }
  }

  /** The window's owner, by its `pid`, goes through the same policy as a signal to it would. */
  private async assertWindowOwnerAllowed(
    windows: WindowController,
    windowId: string,
  ): Promise<void> {
    const window = (await windows.list()).find((w) => w.id === windowId);
    if (!window) throw new ControlError('no_such_window', `no window ${windowId}`);
    const decision = await this.options.policy.checkWindowOwner(window.pid);
    if (!decision.allowed) {
      throw new ControlError(decision.code, `window ${windowId}: ${decision.message}`);
    }
  }

  private async mustGet(pid: number): Promise<ProcessSample> {
    const sample = await this.options.table.get(pid);
    if (!sample) throw new ControlError('no_such_process', `no process with pid ${pid}`);
    return sample;
  }

  private async windowController(): Promise<WindowController> {
    if (!this.options.windowsEnabled()) {
      throw new ControlError(
        'control_disabled',
        'window control is disabled in the local agent config',
      );
    }
    const windows = this.options.windows;
    if (!windows)
      throw new ControlError('capability_missing', 'this agent has no window controller');
    const availability = await windows.availability();
    if (!availability.available) {
      throw new ControlError(
        'capability_missing',
        `window control unavailable: ${availability.reason}`,
      );
    }
    return windows;
  }
}

/** The wire form of a window change, for the `window.event` custom message. */
export function toWindowEvent(event: WindowChangeEvent, at: number): WindowEvent {
  return {
    type: 'window.event',
    change: event.change,
    ...(event.windowId === undefined ? {} : { windowId: event.windowId }),
    windows: event.windows,
    at,
  };
}

function toProcessInfo(sample: ProcessSample): ProcessInfo {
  const { pid, ppid, name, user, state, cpuPercent, memoryBytes, command, startedAt } = sample;
  return { pid, ppid, name, user, state, cpuPercent, memoryBytes, command, startedAt };
}

/**
 * Pid reuse: the caller acted on the process it saw in a list, which may have exited since and
 * left its pid to another. Start times are compared as instants, not as text.
 */
function assertSameProcess(target: ProcessSample, seenStartedAt: string): void {
  const now = target.startedAt === null ? Number.NaN : Date.parse(target.startedAt);
  if (now === Date.parse(seenStartedAt)) return;
  throw new ControlError(
    'process_changed',
    `pid ${target.pid} is now a process started at ${target.startedAt ?? 'an unknown time'} ` +
      `("${target.name}"), not the one started at ${seenStartedAt}`,
  );
}

function failure(commandId: string, error: ControlError): CommandResult {
  return {
    type: 'result',
    commandId,
    ok: false,
    error: { code: error.code, message: error.message.slice(0, 4096) },
  };
}

/** Best effort: an invalid command still gets a failed result if its commandId is readable. */
function commandIdOf(data: Uint8Array): string | undefined {
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(data));
    const id = (parsed as { commandId?: unknown } | null)?.commandId;
    return typeof id === 'string' && UUID.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}
