import { CONTROL_CAPABILITY, type ControlCommand } from '@cybercorp/protocol';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../infra/logger.js';
import type { Metrics } from '../infra/metrics.js';
import { ApiError } from '../infra/problem.js';
import { RedisUnavailableError } from '../infra/redis.js';
import { ConnectionRegistry, type CommandChannel } from '../opamp/connection-registry.js';
import type { AgentRepository } from '../repositories/agents.js';
import type { AuditEvent, AuditRepository } from '../repositories/audit.js';
import type { CommandOutcome, CommandRepository } from '../repositories/commands.js';
import { AuditService } from './audit-service.js';
import { CommandRelay } from './command-relay.js';
import type { CommandBus } from './command-bus.js';
import { InMemoryPresence, type Presence } from './presence.js';

const AGENT_ID = '0190a1b2-0000-7000-8000-000000000001';
const clock = { now: () => Date.now() };

/** Presence as it is while Redis is unreachable: every look-up fails. */
const presenceWithoutRedis = {
  lookup: () => Promise.reject(new RedisUnavailableError(new Error('connection refused'))),
} as unknown as Presence;

/** Presence naming another instance as the agent's holder. */
function presenceOn(instanceId: string): Presence {
  const presence = new InMemoryPresence(clock);
  void presence.markSeen(
    AGENT_ID,
    { instanceId, connectionId: 'c-9', transport: 'websocket' },
    60_000,
  );
  return presence;
}

/**
 * The relay over a registry holding one fake connection (none when `channel` is undefined);
 * the recorded outcomes are kept.
 */
function relayWith(
  channel: CommandChannel | undefined,
  options: { presence?: Presence; bus?: Partial<CommandBus> } = {},
) {
  const connections = new ConnectionRegistry();
  if (channel) connections.attach(AGENT_ID, channel);
  const presence = options.presence ?? new InMemoryPresence(clock);
  if (!options.presence && channel) {
    void presence.markSeen(
      AGENT_ID,
      { instanceId: 'here', connectionId: channel.connectionId, transport: 'websocket' },
      60_000,
    );
  }
  const recorded: { id: string; outcome: CommandOutcome; audit: AuditEvent }[] = [];
  const commands = {
    insertPending: async () => undefined,
    insertFinished: async () => undefined,
    finishAudited: async (rows: typeof recorded) => {
      recorded.push(...rows);
      return rows.map(() => true);
    },
  } as unknown as CommandRepository;
  const metrics = {
    commands: { inc: () => undefined },
    commandDuration: { observe: () => undefined },
  } as unknown as Metrics;
  const relay = new CommandRelay({
    instanceId: 'here',
    agents: {
      findById: async (id: string) => ({
        id,
        customCapabilities: [CONTROL_CAPABILITY],
        transport: 'websocket',
      }),
    } as unknown as AgentRepository,
    commands,
    presence,
    connections,
    audit: new AuditService({} as AuditRepository, clock),
    metrics,
    clock,
    logger: silentLogger,
    defaultTimeoutMs: 60_000,
    bus: options.bus as CommandBus | undefined,
  });
  const gone = () => {
    if (channel) connections.detach(AGENT_ID, channel);
    relay.onAgentGone(AGENT_ID);
  };
  const kill = () =>
    relay
      .execute({
        actor: 'olga',
        agentId: AGENT_ID,
        command: { type: 'process.signal', pid: 4242, action: 'kill' },
        audit: { action: 'process.kill', targetType: 'process', targetId: '4242', reason: null },
      })
      .catch((error: unknown) => error);
  /** The agent's answer to `command`: it succeeded. */
  const succeed = (command: ControlCommand) =>
    relay.onAgentResult(AGENT_ID, {
      type: 'result',
      commandId: command.commandId,
      ok: true,
      data: {},
    });
  return { relay, recorded, gone, kill, succeed };
}

function channel(
  onSend: (command: ControlCommand, onUnsent: () => void) => boolean,
): CommandChannel {
  return {
    connectionId: 'c-1',
    customCapabilities: [CONTROL_CAPABILITY],
    sendCommand: (command, onUnsent) => onSend(command, onUnsent ?? (() => undefined)),
    close: () => undefined,
  };
}

describe('CommandRelay: offline (never sent) and unknown (sent, then the agent was gone)', () => {
  it('ends a command unknown when the connection ends after it was sent', async () => {
    let sent: ControlCommand | undefined;
    const { recorded, gone, kill } = relayWith(channel((command) => ((sent = command), true)));
    const outcome = kill();
    await expect.poll(() => sent).toBeDefined();
    gone();
    const error = await outcome;
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 'outcome_unknown' });
    expect(recorded.map((r) => [r.outcome.status, r.audit.outcome, r.audit.errorCode])).toEqual([
      ['unknown', 'unknown', 'outcome_unknown'],
    ]);
  });

  it('ends a command offline when its write fails, and records it once', async () => {
    let unsent: (() => void) | undefined;
    const { recorded, gone, kill } = relayWith(
      channel((_c, onUnsent) => ((unsent = onUnsent), true)),
    );
    const outcome = kill();
    await expect.poll(() => unsent).toBeDefined();
    unsent!(); // e.g. the socket closed while the frame was being compressed
    gone();
    expect(await outcome).toMatchObject({ code: 'agent_offline' });
    expect(recorded.map((r) => [r.outcome.status, r.audit.outcome, r.audit.errorCode])).toEqual([
      ['offline', 'failed', 'agent_offline'],
    ]);
  });

  it('ends a command offline when the connection cannot take it', async () => {
    const { recorded, kill } = relayWith(channel(() => false));
    expect(await kill()).toMatchObject({ code: 'agent_offline' });
    expect(recorded.map((r) => r.outcome.status)).toEqual(['offline']);
  });

  it('at shutdown, ends a sent command unknown', async () => {
    let sent = false;
    const { relay, recorded, kill } = relayWith(channel(() => (sent = true)));
    const outcome = kill();
    await expect.poll(() => sent).toBe(true);
    relay.failAll();
    expect(await outcome).toMatchObject({ code: 'outcome_unknown' });
    expect(recorded.map((r) => r.outcome.status)).toEqual(['unknown']);
  });
});

describe('CommandRelay without Redis, and instances that go away', () => {
  const statuses = (recorded: { outcome: CommandOutcome; audit: AuditEvent }[]) =>
    recorded.map((r) => [
      r.outcome.status,
      r.outcome.errorCode,
      r.audit.outcome,
      r.audit.errorCode,
    ]);

  it('still sends to an agent connected here when presence cannot be read', async () => {
    const sent: ControlCommand[] = [];
    const { recorded, kill, succeed } = relayWith(
      channel((command) => (sent.push(command), true)),
      { presence: presenceWithoutRedis },
    );
    const outcome = kill();
    await expect.poll(() => sent.length).toBe(1);
    succeed(sent[0]!);
    expect(await outcome).toMatchObject({ commandId: sent[0]!.commandId });
    expect(recorded.map((r) => r.outcome.status)).toEqual(['succeeded']);
  });

  it('refuses a command for an agent not connected here with relay_unavailable, recorded once', async () => {
    const { recorded, kill } = relayWith(undefined, { presence: presenceWithoutRedis });
    const error = await kill();
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 'relay_unavailable', status: 503 });
    expect(statuses(recorded)).toEqual([
      ['offline', 'relay_unavailable', 'failed', 'relay_unavailable'],
    ]);
  });

  it('refuses with relay_unavailable when the command cannot be published to its holder', async () => {
    const { recorded, kill } = relayWith(undefined, {
      presence: presenceOn('there'),
      bus: { send: () => Promise.reject(new Error("Stream isn't writeable")) },
    });
    expect(await kill()).toMatchObject({ code: 'relay_unavailable' });
    expect(statuses(recorded)).toEqual([
      ['offline', 'relay_unavailable', 'failed', 'relay_unavailable'],
    ]);
  });

  it('sends here when the instance presence names is gone and the agent reconnected here', async () => {
    // A killed instance leaves its presence entries until they expire; the agent is back here.
    const sent: ControlCommand[] = [];
    let published = 0;
    const { recorded, kill, succeed } = relayWith(
      channel((command) => (sent.push(command), true)),
      { presence: presenceOn('killed'), bus: { send: async () => (published++, 0) } },
    );
    const outcome = kill();
    await expect.poll(() => sent.length).toBe(1);
    succeed(sent[0]!);
    expect(await outcome).toMatchObject({ commandId: sent[0]!.commandId });
    expect(published).toBe(1);
    expect(statuses(recorded)).toEqual([['succeeded', undefined, 'succeeded', null]]);
  });

  it('ends a command offline when the instance presence names is gone and the agent is not here', async () => {
    const { recorded, kill } = relayWith(undefined, {
      presence: presenceOn('killed'),
      bus: { send: async () => 0 },
    });
    expect(await kill()).toMatchObject({ code: 'agent_offline', status: 503 });
    expect(statuses(recorded)).toEqual([['offline', 'agent_offline', 'failed', 'agent_offline']]);
  });

  it('ends a relayed command unknown when the bus subscription is lost', async () => {
    let published = 0;
    const { relay, recorded, kill } = relayWith(undefined, {
      presence: presenceOn('there'),
      bus: { send: async () => ++published, isListening: async () => true },
    });
    const outcome = kill();
    await expect.poll(() => published).toBe(1);
    relay.onBusLost();
    expect(await outcome).toMatchObject({ code: 'outcome_unknown' });
    relay.onBusLost(); // a second notice ends nothing twice
    expect(statuses(recorded)).toEqual([
      ['unknown', 'outcome_unknown', 'unknown', 'outcome_unknown'],
    ]);
    relay.stop();
  });

  it('ends a relayed command unknown once its holder no longer listens (killed)', async () => {
    let listening = true;
    const { relay, recorded, kill } = relayWith(undefined, {
      presence: presenceOn('there'),
      bus: { send: async () => 1, isListening: async () => listening },
    });
    const outcome = kill();
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(recorded).toEqual([]); // still listening: the command waits for its answer
    listening = false;
    expect(await outcome).toMatchObject({ code: 'outcome_unknown' });
    expect(statuses(recorded)).toEqual([
      ['unknown', 'outcome_unknown', 'unknown', 'outcome_unknown'],
    ]);
    relay.stop();
  });
});
