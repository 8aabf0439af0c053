import { CONTROL_CAPABILITY, type ControlCommand } from '@cybercorp/protocol';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../infra/logger.js';
import type { Metrics } from '../infra/metrics.js';
import { ApiError } from '../infra/problem.js';
import { ConnectionRegistry, type CommandChannel } from '../opamp/connection-registry.js';
import type { AgentRepository } from '../repositories/agents.js';
import type { AuditEvent, AuditRepository } from '../repositories/audit.js';
import type { CommandOutcome, CommandRepository } from '../repositories/commands.js';
import { AuditService } from './audit-service.js';
import { CommandRelay } from './command-relay.js';
import { InMemoryPresence } from './presence.js';

const AGENT_ID = '0190a1b2-0000-7000-8000-000000000001';
const clock = { now: () => Date.now() };

/** The relay over a registry holding one fake connection; the recorded outcomes are kept. */
function relayWith(channel: CommandChannel) {
  const connections = new ConnectionRegistry();
  connections.attach(AGENT_ID, channel);
  const presence = new InMemoryPresence(clock);
  void presence.markSeen(
    AGENT_ID,
    { instanceId: 'here', connectionId: channel.connectionId, transport: 'websocket' },
    60_000,
  );
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
    agents: {} as AgentRepository,
    commands,
    presence,
    connections,
    audit: new AuditService({} as AuditRepository, clock),
    metrics,
    clock,
    logger: silentLogger,
    defaultTimeoutMs: 60_000,
  });
  const gone = () => {
    connections.detach(AGENT_ID, channel);
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
  return { relay, recorded, gone, kill };
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
