import {
  CONTROL_CAPABILITY,
  WINDOWS_CAPABILITY,
  WINDOWS_UNAVAILABLE_ATTRIBUTE,
  windowsMissingDetail,
  type CommandResult,
  type ControlCommand,
  type ErrorCode,
} from '@cybercorp/protocol';
import { v7 as uuidv7 } from 'uuid';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { Metrics } from '../infra/metrics.js';
import { ApiError } from '../infra/problem.js';
import { BatchWriter } from '../infra/batch-writer.js';
import { isUuid, type AgentRepository } from '../repositories/agents.js';
import type {
  CommandOutcome,
  CommandRepository,
  CommandRow,
  CommandStart,
  CommandStatus,
} from '../repositories/commands.js';
import type { ConnectionRegistry } from '../opamp/connection-registry.js';
import type { AuditEvent } from '../repositories/audit.js';
import type { AuditInput, AuditService } from './audit-service.js';
import type { CommandBus, RemoteCommand, RemoteReply } from './command-bus.js';
import type { Presence } from './presence.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type CommandBody = DistributiveOmit<ControlCommand, 'commandId' | 'deadline'>;

export interface CommandRequest {
  actor: string;
  agentId: string;
  command: CommandBody;
  /** Custom capabilities the agent must report besides CONTROL_CAPABILITY. */
  requires?: readonly string[];
  /** Set for actions: they are audited with their outcome (reads are not). */
  audit?: { action: string; targetType: string; targetId: string; reason: string | null };
  timeoutMs?: number;
}

export interface CommandSuccess {
  commandId: string;
  data: unknown;
}

/**
 * How a command ended for the REST call. `offline`: it never left (no connection, or the send
 * failed). `unknown`: it was sent and the agent's connection ended before an answer came, so it
 * may or may not have been carried out.
 */
type Settlement =
  | { kind: 'result'; result: CommandResult }
  | { kind: 'offline' }
  | { kind: 'unknown' }
  | { kind: 'timeout' };

interface Pending {
  agentId: string;
  /** Written to the agent's socket here, or handed to the instance that holds the agent. */
  sent: boolean;
  settle: (s: Settlement) => void;
}

export interface CommandRelayDeps {
  instanceId: string;
  agents: AgentRepository;
  commands: CommandRepository;
  presence: Presence;
  connections: ConnectionRegistry;
  audit: AuditService;
  metrics: Metrics;
  clock: Clock;
  logger: Logger;
  defaultTimeoutMs: number;
  bus?: CommandBus;
}

/**
 * Sends control commands to agents and waits for their one answer. The agent may be connected
 * to this instance or, with Redis, to another one; either way the REST call gets exactly one
 * outcome (result, timeout, offline or unknown), and that outcome is recorded once.
 */
export class CommandRelay {
  private readonly pending = new Map<string, Pending>();
  /** Commands another instance routed through this one, so their result can be sent back. */
  private readonly forwarded = new Map<
    string,
    { originId: string; agentId: string; timer: NodeJS.Timeout }
  >();

  /** Concurrent commands share their database writes: many rows to a statement. */
  private readonly writes: {
    pending: BatchWriter<CommandStart, undefined>;
    finished: BatchWriter<{ id: string; outcome: CommandOutcome; audit: AuditEvent }, boolean>;
  };

  constructor(private readonly deps: CommandRelayDeps) {
    this.writes = {
      pending: new BatchWriter(async (rows) => {
        await deps.commands.insertPending(rows);
        return rows.map(() => undefined);
      }),
      finished: new BatchWriter((rows) => deps.commands.finishAudited(rows)),
    };
  }

  async execute(request: CommandRequest): Promise<CommandSuccess> {
    const { deps } = this;
    const agent = await this.findAgent(request.agentId);
    if (!agent) {
      await this.auditRefusal(request, 'no_such_agent');
      throw new ApiError('no_such_agent', `no agent ${request.agentId}`);
    }
    const required = [CONTROL_CAPABILITY, ...(request.requires ?? [])];
    const missing = required.filter((c) => !agent.customCapabilities.includes(c));
    if (missing.length > 0 || agent.transport !== 'websocket') {
      await this.auditRefusal(request, 'capability_missing');
      throw new ApiError('capability_missing', await this.missingDetail(agent, missing));
    }

    const startedAt = deps.clock.now();
    const timeoutMs = request.timeoutMs ?? deps.defaultTimeoutMs;
    const commandId = uuidv7();
    const command: ControlCommand = {
      ...request.command,
      commandId,
      deadline: startedAt + timeoutMs,
    };
    const start: CommandStart = {
      id: commandId,
      agentId: agent.id,
      type: command.type,
      target: request.audit?.targetId ?? null,
      action: 'action' in command ? command.action : null,
      reason: request.audit?.reason ?? null,
      actor: request.actor,
      createdAt: new Date(startedAt),
      deadlineAt: new Date(command.deadline),
    };
    // An action is on record, durably, before the agent may act: a crash mid-command leaves
    // a pending row behind. A read changes nothing, so it is written once, with its outcome.
    if (request.audit) await this.writes.pending.add(start);

    const settlement = await this.dispatch(agent.id, command, timeoutMs);
    return this.conclude(request, command, start, settlement);
  }

  /**
   * What the relay needs to know of the agent. An agent connected here has told this
   * instance its capabilities on this very connection, which is as fresh as the database
   * (the stored row is written from the same messages); any other agent is looked up there.
   */
  private async findAgent(
    agentId: string,
  ): Promise<{ id: string; customCapabilities: readonly string[]; transport: string } | null> {
    const reported = this.deps.connections.get(agentId)?.customCapabilities;
    if (reported) return { id: agentId, customCapabilities: reported, transport: 'websocket' };
    return this.deps.agents.findById(agentId);
  }

  /** Why the agent cannot take the command, with the agent's own reason where it gave one. */
  private async missingDetail(agent: { id: string; transport: string }, missing: string[]) {
    if (missing.length === 0) {
      return `agent ${agent.id} polls over plain HTTP and cannot receive commands`;
    }
    if (missing.length === 1 && missing[0] === WINDOWS_CAPABILITY) {
      const row = await this.deps.agents.findById(agent.id);
      return windowsMissingDetail(
        agent.id,
        row?.nonIdentifyingAttributes[WINDOWS_UNAVAILABLE_ATTRIBUTE],
      );
    }
    return `agent ${agent.id} does not report ${missing.join(', ')}`;
  }

  /** The recorded command and its outcome; null for an id that names none. */
  async find(commandId: string): Promise<CommandRow | null> {
    return isUuid(commandId) ? this.deps.commands.findById(commandId) : null;
  }

  /** Resolves once every write started so far has finished (for shutdown). */
  async recorded(): Promise<void> {
    await Promise.all(Object.values(this.writes).map((writer) => writer.idle()));
  }

  /** Called by the OpAMP layer for every `result` an agent sends. */
  /** Settles the command the result answers; false when no command waits for it (late or unknown). */
  onAgentResult(agentId: string, result: CommandResult): boolean {
    const local = this.pending.get(result.commandId);
    if (local && local.agentId === agentId) {
      local.settle({ kind: 'result', result });
      return true;
    }
    const forwarded = this.forwarded.get(result.commandId);
    if (forwarded && forwarded.agentId === agentId) {
      this.forgetForwarded(result.commandId);
      this.reply(forwarded.originId, { kind: 'result', agentId, result });
      return true;
    }
    return false;
  }

  /**
   * Called when an agent's connection on this instance ends: its commands end at once, as
   * `unknown` where they had been sent on it (the agent may have acted), else `offline`.
   */
  onAgentGone(agentId: string): void {
    for (const [, entry] of this.pending) {
      if (entry.agentId === agentId && this.deps.connections.get(agentId) === undefined) {
        entry.settle({ kind: entry.sent ? 'unknown' : 'offline' });
      }
    }
    for (const [commandId, entry] of this.forwarded) {
      if (entry.agentId !== agentId) continue;
      this.forgetForwarded(commandId);
      this.reply(entry.originId, { kind: 'unknown', agentId, commandId });
    }
  }

  onRemoteCommand(message: RemoteCommand): void {
    const { command, agentId, originId } = message;
    const { commandId } = command;
    const unsent = () => {
      if (!this.forwarded.has(commandId)) return; // answered or gone already
      this.forgetForwarded(commandId);
      this.reply(originId, { kind: 'offline', agentId, commandId });
    };
    if (!this.deps.connections.send(agentId, command, unsent)) {
      this.reply(originId, { kind: 'offline', agentId, commandId });
      return;
    }
    const ttl = Math.max(0, command.deadline - this.deps.clock.now()) + 1000;
    const timer = setTimeout(() => this.forwarded.delete(command.commandId), ttl);
    timer.unref();
    this.forwarded.set(commandId, { originId, agentId, timer });
  }

  onRemoteReply(message: RemoteReply): void {
    const commandId = message.kind === 'result' ? message.result.commandId : message.commandId;
    const entry = this.pending.get(commandId);
    if (!entry || entry.agentId !== message.agentId) return;
    entry.settle(message.kind === 'result' ? { kind: 'result', result: message.result } : message);
  }

  /**
   * Shutdown: every waiting call ends now instead of at its deadline; `agent_offline` if its
   * command never left, `outcome_unknown` if it did (the agent may still carry it out).
   */
  failAll(): void {
    for (const entry of this.pending.values()) {
      entry.settle({ kind: entry.sent ? 'unknown' : 'offline' });
    }
    for (const [commandId, entry] of this.forwarded) {
      this.forgetForwarded(commandId);
      this.reply(entry.originId, { kind: 'unknown', agentId: entry.agentId, commandId });
    }
  }

  get inFlight(): number {
    return this.pending.size;
  }

  private async dispatch(
    agentId: string,
    command: ControlCommand,
    timeoutMs: number,
  ): Promise<Settlement> {
    const { deps } = this;
    const settled = new Promise<Settlement>((resolve) => {
      const timer = setTimeout(() => settle({ kind: 'timeout' }), timeoutMs);
      const settle = (s: Settlement) => {
        if (!this.pending.delete(command.commandId)) return;
        clearTimeout(timer);
        resolve(s);
      };
      this.pending.set(command.commandId, { agentId, sent: false, settle });
    });
    const fail = () => this.pending.get(command.commandId)?.settle({ kind: 'offline' });
    const sent = () => {
      const entry = this.pending.get(command.commandId);
      if (entry) entry.sent = true;
    };
    try {
      const presence = await deps.presence.lookup(agentId);
      if (!presence) {
        fail();
      } else if (presence.instanceId === deps.instanceId) {
        if (deps.connections.send(agentId, command, fail)) sent();
        else fail();
      } else if (deps.bus) {
        const receivers = await deps.bus.send(presence.instanceId, {
          kind: 'command',
          originId: deps.instanceId,
          agentId,
          command,
        });
        // From here on the instance holding the agent tells how it ended.
        if (receivers === 0) fail();
        else sent();
      } else {
        fail();
      }
    } catch (error) {
      deps.logger.error('could not dispatch command', { commandId: command.commandId, err: error });
      fail();
    }
    return settled;
  }

  private async conclude(
    request: CommandRequest,
    command: ControlCommand,
    start: CommandStart,
    settlement: Settlement,
  ): Promise<CommandSuccess> {
    const { deps } = this;
    const commandId = command.commandId;
    const startedAt = start.createdAt.getTime();
    let status: Exclude<CommandStatus, 'pending'>;
    let errorCode: ErrorCode | undefined;
    let errorMessage: string | undefined;
    let data: unknown;
    if (settlement.kind === 'result' && settlement.result.ok) {
      status = 'succeeded';
      data = settlement.result.data;
    } else if (settlement.kind === 'result' && !settlement.result.ok) {
      status = 'failed';
      errorCode = settlement.result.error.code;
      errorMessage = settlement.result.error.message;
    } else if (settlement.kind === 'timeout') {
      status = 'timed_out';
      errorCode = 'agent_timeout';
      errorMessage = `agent ${request.agentId} did not answer within ${command.deadline - startedAt} ms`;
    } else if (settlement.kind === 'unknown') {
      status = 'unknown';
      errorCode = 'outcome_unknown';
      errorMessage = `agent ${request.agentId} disconnected after the command was sent and before it answered: whether it was carried out is unknown`;
    } else {
      status = 'offline';
      errorCode = 'agent_offline';
      errorMessage = `agent ${request.agentId} is not connected`;
    }
    const finishedAt = deps.clock.now();
    const outcome: CommandOutcome = {
      status,
      errorCode,
      errorMessage,
      // Lists are answers to reads polled by dashboards; only action results are worth keeping.
      result:
        status === 'succeeded' && !command.type.endsWith('.list') ? (data ?? null) : undefined,
      finishedAt: new Date(finishedAt),
    };
    let recorded = true;
    if (request.audit) {
      const audit = deps.audit.event(
        auditInput(request, request.audit, {
          outcome: status === 'succeeded' || status === 'unknown' ? status : 'failed',
          errorCode: errorCode ?? null,
          commandId,
        }),
      );
      recorded = await this.writes.finished.add({ id: commandId, outcome, audit });
    }
    // Reads (lists) change nothing on the agent and are polled by dashboards: not recorded.
    if (recorded) {
      deps.metrics.commands.inc({ type: command.type, outcome: status });
      deps.metrics.commandDuration.observe({ type: command.type }, (finishedAt - startedAt) / 1000);
    }
    if (status === 'succeeded') return { commandId, data };
    throw new ApiError(errorCode ?? 'internal_error', errorMessage ?? 'command failed', {
      commandId,
    });
  }

  private async auditRefusal(request: CommandRequest, code: ErrorCode): Promise<void> {
    if (!request.audit) return;
    await this.deps.audit.record(
      auditInput(request, request.audit, { outcome: 'failed', errorCode: code }),
    );
  }

  private reply(originId: string, message: RemoteReply): void {
    if (originId === this.deps.instanceId) {
      this.onRemoteReply(message);
      return;
    }
    this.deps.bus?.send(originId, message).catch((error: unknown) => {
      this.deps.logger.error('could not send a command reply over Redis', { originId, err: error });
    });
  }

  private forgetForwarded(commandId: string): void {
    const entry = this.forwarded.get(commandId);
    if (entry) clearTimeout(entry.timer);
    this.forwarded.delete(commandId);
  }
}

/** The audit record of an action: who asked what of which target, and how it ended. */
function auditInput(
  request: CommandRequest,
  audit: NonNullable<CommandRequest['audit']>,
  ending: Pick<AuditInput, 'outcome' | 'errorCode' | 'commandId'>,
): AuditInput {
  return {
    actor: request.actor,
    action: audit.action,
    targetType: audit.targetType,
    targetId: audit.targetId,
    agentId: request.agentId,
    reason: audit.reason,
    ...ending,
  };
}
