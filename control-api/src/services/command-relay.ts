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
import type { Presence, PresenceInfo } from './presence.js';

/** How often the instances holding relayed commands are checked to still be there. */
const OWNER_CHECK_INTERVAL_MS = 1000;
/** How often, and how long past its deadline, an action left pending by a dead instance is ended. */
const ORPHAN_SWEEP_INTERVAL_MS = 5000;
export const ORPHAN_GRACE_MS = 10_000;

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
 * may or may not have been carried out. `relay_unavailable`: it never left either, because
 * finding or reaching the instance that holds the agent needs Redis, and Redis is unreachable.
 */
type Settlement =
  | { kind: 'result'; result: CommandResult }
  | { kind: 'offline' }
  | { kind: 'unknown' }
  | { kind: 'timeout' }
  | { kind: 'relay_unavailable' };

interface Pending {
  agentId: string;
  /** Written to the agent's socket here, or handed to the instance that holds the agent. */
  sent: boolean;
  /** The instance it was handed to over the command bus; its answer comes back through Redis. */
  relayedTo: string | undefined;
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
  /** Replies on their way to other instances (shutdown waits for them before Redis closes). */
  private readonly replies = new Set<Promise<unknown>>();
  private ownerWatch: NodeJS.Timeout | undefined;
  private orphanSweep: NodeJS.Timeout | undefined;

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

  /** Resolves once every write and reply started so far has finished (for shutdown). */
  async recorded(): Promise<void> {
    await Promise.all([
      ...Object.values(this.writes).map((writer) => writer.idle()),
      ...this.replies,
    ]);
  }

  /**
   * Starts looking, now and then, for actions that an instance which died left pending, and
   * ends them `unknown` (see CommandRepository.expireOrphaned). Every instance does it; a
   * command is ended by one.
   */
  startOrphanSweep(): void {
    this.orphanSweep ??= setInterval(() => void this.sweepOrphans(), ORPHAN_SWEEP_INTERVAL_MS);
    this.orphanSweep.unref();
  }

  stop(): void {
    clearInterval(this.orphanSweep);
    clearInterval(this.ownerWatch);
    this.orphanSweep = undefined;
    this.ownerWatch = undefined;
  }

  /** Ends the orphaned actions found now; returns how many. */
  async sweepOrphans(): Promise<number> {
    const { deps } = this;
    const now = deps.clock.now();
    try {
      const ended = await deps.commands.expireOrphaned(new Date(now - ORPHAN_GRACE_MS), {
        errorCode: 'outcome_unknown',
        errorMessage:
          'the API instance that sent the command stopped before it was answered: whether it was carried out is unknown',
        finishedAt: new Date(now),
      });
      for (const commandId of ended) {
        deps.logger.warn('ended a command its instance left pending', { commandId });
      }
      return ended.length;
    } catch (error) {
      deps.logger.warn('could not look for commands left pending', {
        error: error instanceof Error ? error.message : String(error),
      });
      return 0;
    }
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
      // A command handed to another instance is that instance's to end.
      if (entry.relayedTo !== undefined) continue;
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
   * Called when this instance's subscription to the command bus is lost (Redis went away). An
   * answer published meanwhile would never arrive, so every command handed to another instance
   * ends now, `unknown`: it was delivered there and may have been carried out.
   */
  onBusLost(): void {
    for (const entry of this.pending.values()) {
      if (entry.relayedTo) entry.settle({ kind: 'unknown' });
    }
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
    const { commandId } = command;
    const settled = new Promise<Settlement>((resolve) => {
      const timer = setTimeout(() => settle({ kind: 'timeout' }), timeoutMs);
      const settle = (s: Settlement) => {
        if (!this.pending.delete(commandId)) return;
        clearTimeout(timer);
        resolve(s);
      };
      this.pending.set(commandId, { agentId, sent: false, relayedTo: undefined, settle });
    });
    const end = (s: Settlement) => this.pending.get(commandId)?.settle(s);
    const fail = () => end({ kind: 'offline' });
    const sendHere = () => {
      const entry = this.pending.get(commandId);
      if (entry && deps.connections.send(agentId, command, fail)) entry.sent = true;
      else fail();
    };
    let presence: PresenceInfo | null;
    try {
      presence = await deps.presence.lookup(agentId);
    } catch (error) {
      // Presence lives in Redis: without it this instance still knows its own connections, and
      // nothing else. A command for any other agent is refused rather than guessed at.
      if (deps.connections.get(agentId)) {
        sendHere();
      } else {
        this.relayUnavailable(commandId, error);
      }
      return settled;
    }
    if (!presence) {
      fail();
    } else if (presence.instanceId === deps.instanceId) {
      sendHere();
    } else if (deps.bus) {
      await this.sendThroughBus(deps.bus, presence.instanceId, agentId, command, sendHere);
    } else {
      fail();
    }
    return settled;
  }

  /**
   * Hands the command to the instance holding the agent; from then on that one tells how it
   * ended. When no instance listens under that name (it was killed, and its presence entry has
   * not expired yet) and the agent has meanwhile reconnected here, the command is sent here.
   */
  private async sendThroughBus(
    bus: CommandBus,
    ownerId: string,
    agentId: string,
    command: ControlCommand,
    sendHere: () => void,
  ): Promise<void> {
    const { commandId } = command;
    let receivers: number;
    try {
      receivers = await bus.send(ownerId, {
        kind: 'command',
        originId: this.deps.instanceId,
        agentId,
        command,
      });
    } catch (error) {
      this.relayUnavailable(commandId, error);
      return;
    }
    const entry = this.pending.get(commandId);
    if (!entry) return; // ended meanwhile (deadline, shutdown)
    if (receivers === 0) {
      if (this.deps.connections.get(agentId)) sendHere();
      else entry.settle({ kind: 'offline' });
      return;
    }
    entry.sent = true;
    entry.relayedTo = ownerId;
    this.watchOwners();
  }

  /**
   * While commands wait on other instances, checks now and then that those still listen: one
   * that was killed never answers, and its commands would otherwise wait for their deadline.
   * They end `unknown` (they were delivered there and may have been carried out).
   */
  private watchOwners(): void {
    if (this.ownerWatch || !this.deps.bus) return;
    const bus = this.deps.bus;
    this.ownerWatch = setInterval(() => {
      const owners = new Set<string>();
      for (const entry of this.pending.values()) if (entry.relayedTo) owners.add(entry.relayedTo);
      if (owners.size === 0) {
        clearInterval(this.ownerWatch);
        this.ownerWatch = undefined;
        return;
      }
      for (const owner of owners) {
        bus.isListening(owner).then(
          (listening) => {
            if (listening) return;
            for (const entry of this.pending.values()) {
              if (entry.relayedTo === owner) entry.settle({ kind: 'unknown' });
            }
          },
          () => undefined, // Redis away: onBusLost ends these commands
        );
      }
    }, OWNER_CHECK_INTERVAL_MS);
    this.ownerWatch.unref();
  }

  private relayUnavailable(commandId: string, error: unknown): void {
    this.deps.logger.warn('cannot relay a command: Redis is unavailable', {
      commandId,
      error: error instanceof Error ? error.message : String(error),
    });
    this.pending.get(commandId)?.settle({ kind: 'relay_unavailable' });
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
    } else if (settlement.kind === 'relay_unavailable') {
      // Never sent, like offline; the code says why, and that trying again later may work.
      status = 'offline';
      errorCode = 'relay_unavailable';
      errorMessage = `agent ${request.agentId} is not connected to this instance, and Redis, through which instances reach each other's agents, is unavailable: the command was not sent`;
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
    const { bus } = this.deps;
    if (!bus) return;
    const sending: Promise<unknown> = bus
      .send(originId, message)
      .catch((error: unknown) => {
        this.deps.logger.error('could not send a command reply over Redis', {
          originId,
          err: error,
        });
      })
      .finally(() => this.replies.delete(sending));
    this.replies.add(sending);
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
