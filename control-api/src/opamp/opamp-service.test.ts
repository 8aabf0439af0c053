import {
  AgentToServerSchema,
  CONTROL_CAPABILITY,
  CustomMessageSchema,
  create,
  encodeControlData,
  instanceUidFromString,
  recordToKeyValues,
  type AgentToServer,
  type CommandResult,
  type WindowEvent,
} from '@cybercorp/protocol';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../infra/logger.js';
import type { AgentRepository } from '../repositories/agents.js';
import type { InventoryRepository, WindowSnapshot } from '../repositories/inventory.js';
import type { CommandRelay } from '../services/command-relay.js';
import { Inventory } from '../services/inventory.js';
import { InMemoryPresence } from '../services/presence.js';
import { InMemoryWindowSnapshots } from '../services/window-snapshots.js';
import { WINDOW_FIXTURE } from '../test-support/fake-agent.js';
import { OpampService, type OpampExchange } from './opamp-service.js';

const AGENT_ID = '0190a1b2-0000-7000-8000-0000000000aa';

/** A promise with its resolve at hand: a database write the test lets finish when it wants. */
function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/**
 * The service over an agent repository and an inventory whose writes wait for the test
 * (`upserts`, `touches`, `windowWrites`), and a relay that records what it was handed, in order
 * with the writes.
 */
function serviceWithHeldWrites() {
  let nowMs = 1_000_000;
  const clock = { now: () => nowMs };
  const happened: string[] = [];
  const upserts: ReturnType<typeof deferred>[] = [];
  const touches: ReturnType<typeof deferred>[] = [];
  const windowWrites: ReturnType<typeof deferred>[] = [];
  const windowsWritten: WindowSnapshot[] = [];
  const inventory = new Inventory(
    {
      insertWindows: (snapshots: WindowSnapshot[]) => {
        happened.push('windows started');
        const write = deferred();
        windowWrites.push(write);
        return write.promise.then(() => {
          happened.push('windows committed');
          windowsWritten.push(...snapshots);
        });
      },
    } as unknown as InventoryRepository,
    60,
    clock,
    silentLogger,
  );
  const agents = {
    upsert: () => {
      happened.push('upsert started');
      const write = deferred();
      upserts.push(write);
      return write.promise.then(() => void happened.push('upsert committed'));
    },
    touchMany: () => {
      happened.push('touch started');
      const write = deferred();
      touches.push(write);
      return write.promise.then(() => void happened.push('touch committed'));
    },
  } as unknown as AgentRepository;
  const relay = {
    onAgentResult: (_agentId: string, result: CommandResult) => {
      happened.push(`result ${result.commandId} handed on`);
      return true;
    },
  } as unknown as CommandRelay;
  const service = new OpampService({
    instanceId: 'here',
    agents,
    presence: new InMemoryPresence(clock),
    relay,
    windows: new InMemoryWindowSnapshots(),
    clock,
    logger: silentLogger,
    metrics: { opampUnknownResults: { inc: () => undefined } } as never,
    heartbeatSeconds: 30,
    events: { presence: () => undefined },
    inventory,
  });
  const exchange = (firstMessage: boolean): OpampExchange => ({
    agentId: AGENT_ID,
    connectionId: 'c-1',
    transport: 'websocket',
    agentTokenId: 't-1',
    firstMessage,
  });
  return {
    service,
    happened,
    upserts,
    touches,
    windowWrites,
    windowsWritten,
    inventory,
    exchange,
    advance: (ms: number) => (nowMs += ms),
  };
}

/** Message `sequenceNum` of the agent; the first (0) describes it, as an agent's first does. */
function messageWithResult(sequenceNum: bigint, commandId?: string): AgentToServer {
  return create(AgentToServerSchema, {
    instanceUid: instanceUidFromString(AGENT_ID),
    sequenceNum,
    agentDescription:
      sequenceNum === 0n
        ? { identifyingAttributes: recordToKeyValues({ 'host.name': 'web-3' }) }
        : undefined,
    customMessage: commandId
      ? create(CustomMessageSchema, {
          capability: CONTROL_CAPABILITY,
          type: 'result',
          data: encodeControlData({ type: 'result', commandId, ok: true, data: [] }),
        })
      : undefined,
  });
}

describe('OpampService: a command result and the write of the agent row', () => {
  it('hands a result on while the row write (a group commit) is still in flight, and replies after it', async () => {
    const { service, happened, upserts, touches, exchange, advance } = serviceWithHeldWrites();
    const first = service.handle(exchange(true), messageWithResult(0n));
    await expect.poll(() => upserts.length).toBe(1);
    upserts[0]!.resolve();
    await first;

    advance(5_000); // past the refresh interval: this message moves lastSeenAt
    let replied = false;
    const handled = service
      .handle(exchange(false), messageWithResult(1n, '0190a1b2-0000-7000-8000-0000000000c1'))
      .then((reply) => {
        replied = true;
        return reply;
      });
    await expect
      .poll(() => happened)
      .toContain('result 0190a1b2-0000-7000-8000-0000000000c1 handed on');
    expect(touches).toHaveLength(1);
    expect(happened).not.toContain('touch committed');
    expect(replied).toBe(false); // the reply says whether the row was stored: it waits

    touches[0]!.resolve();
    const reply = await handled;
    expect(happened).toEqual([
      'upsert started',
      'upsert committed',
      'touch started',
      'result 0190a1b2-0000-7000-8000-0000000000c1 handed on',
      'touch committed',
    ]);
    expect(reply?.flags).toBe(0n); // stored: no ReportFullState
  });

  it('writes the row of a first message before it hands on what that message brings', async () => {
    const { service, happened, upserts, exchange } = serviceWithHeldWrites();
    const first = service.handle(
      exchange(true),
      messageWithResult(0n, '0190a1b2-0000-7000-8000-0000000000c0'),
    );
    await expect.poll(() => upserts.length).toBe(1);
    expect(happened).toEqual(['upsert started']);
    upserts[0]!.resolve();
    await first;
    expect(happened).toEqual([
      'upsert started',
      'upsert committed',
      'result 0190a1b2-0000-7000-8000-0000000000c0 handed on',
    ]);
  });
});

const WINDOW_EVENT: WindowEvent = {
  type: 'window.event',
  change: 'added',
  windowId: '0x1a00003',
  windows: WINDOW_FIXTURE,
  at: 999_000,
};

describe('OpampService: a window event and the inventory write of its window list', () => {
  it('handles and replies while the window list is still being written, and writes it all the same', async () => {
    const { service, happened, upserts, windowWrites, windowsWritten, inventory, exchange } =
      serviceWithHeldWrites();
    const first = service.handle(exchange(true), messageWithResult(0n));
    await expect.poll(() => upserts.length).toBe(1);
    upserts[0]!.resolve();
    await first;

    let replied = false;
    const handled = service
      .handle(
        exchange(false),
        create(AgentToServerSchema, {
          instanceUid: instanceUidFromString(AGENT_ID),
          sequenceNum: 1n,
          customMessage: create(CustomMessageSchema, {
            capability: CONTROL_CAPABILITY,
            type: 'window.event',
            data: encodeControlData(WINDOW_EVENT),
          }),
        }),
      )
      .then((reply) => {
        replied = true;
        return reply;
      });
    await expect.poll(() => windowWrites.length).toBe(1);
    await expect.poll(() => replied).toBe(true);
    expect((await handled)?.flags).toBe(0n);
    expect(happened).not.toContain('windows committed');

    // What shutdown waits for: the held write.
    let flushed = false;
    const flushing = inventory.written().then(() => (flushed = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(flushed).toBe(false);
    windowWrites[0]!.resolve();
    await flushing;
    expect(windowsWritten).toEqual([
      { at: new Date(1_000_000), agentId: AGENT_ID, windows: WINDOW_EVENT.windows },
    ]);
  });
});
