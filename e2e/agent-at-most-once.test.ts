/**
 * At-most-once, shown on the real agent binary: the test plays the OpAMP server, delivers the
 * same process.signal command twice and checks that the process the test spawned was signalled
 * once; a command past its deadline is refused without being run.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  CONTROL_CAPABILITY,
  ServerToAgentSchema,
  create,
  decodeAgentMessage,
  encodeControlData,
  websocketFrames,
  type CommandResult,
  type ControlCommand,
} from '@cybercorp/protocol';
import { procState, startAgent, type RunningAgent } from './support/control-stack.js';
import { waitFor } from './support/processes.js';

const read = (path: string) => readFileSync(path, 'utf8');
const TOKEN = 'cca_test-at-most-once';

describe('agent at-most-once delivery (real agent binary, test as OpAMP server)', () => {
  let server: WebSocketServer;
  let agent: RunningAgent;
  let socket: WebSocket;
  const results = new Map<string, CommandResult[]>();
  const sleeper = spawn('sleep', ['300'], { stdio: 'ignore' });

  beforeAll(async () => {
    server = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/v1/opamp' });
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const connected = new Promise<WebSocket>((resolve) => {
      server.on('connection', (ws, request) => {
        expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
        ws.on('message', (data: Buffer) => {
          const message = websocketFrames.decodeAgentToServer(new Uint8Array(data));
          const custom = message.customMessage;
          if (custom?.capability === CONTROL_CAPABILITY && custom.type === 'result') {
            const result = decodeAgentMessage(custom.data) as CommandResult;
            results.set(result.commandId, [...(results.get(result.commandId) ?? []), result]);
          }
          const reply = create(ServerToAgentSchema, { instanceUid: message.instanceUid });
          ws.send(websocketFrames.encodeServerToAgent(reply));
        });
        resolve(ws);
      });
    });
    agent = startAgent({ controlUrl: `ws://127.0.0.1:${port}/v1/opamp`, token: TOKEN });
    socket = await connected;
  });

  afterAll(async () => {
    if (sleeper.exitCode === null && sleeper.signalCode === null) sleeper.kill('SIGKILL');
    await agent?.stop();
    server?.close();
  });

  function deliver(command: ControlCommand): void {
    const message = create(ServerToAgentSchema, {
      customMessage: {
        capability: CONTROL_CAPABILITY,
        type: command.type,
        data: encodeControlData(command),
      },
    });
    socket.send(websocketFrames.encodeServerToAgent(message));
  }
  const resultsOf = (commandId: string, count: number) =>
    waitFor(
      `${count} result(s) for ${commandId}`,
      async () => {
        const got = results.get(commandId) ?? [];
        return got.length >= count ? got : undefined;
      },
      { process: agent.process },
    );

  it('runs a repeated commandId once and answers the repeat with the remembered result', async () => {
    const pid = sleeper.pid as number;
    const command: ControlCommand = {
      type: 'process.signal',
      commandId: randomUUID(),
      deadline: Date.now() + 60_000,
      pid,
      action: 'suspend',
    };
    deliver(command);
    const [first] = await resultsOf(command.commandId, 1);
    expect(first).toMatchObject({ ok: true });
    expect(procState(pid, read)).toBe('T');

    // Resume it ourselves; a second execution of the same command would stop it again.
    process.kill(pid, 'SIGCONT');
    await waitFor('the sleeper to run again', async () =>
      procState(pid, read) === 'S' ? true : undefined,
    );

    deliver(command);
    const [, second] = await resultsOf(command.commandId, 2);
    expect(second).toEqual(first);
    expect(procState(pid, read)).toBe('S');
  });

  it('refuses a command past its deadline without running it', async () => {
    const pid = sleeper.pid as number;
    const command: ControlCommand = {
      type: 'process.signal',
      commandId: randomUUID(),
      deadline: Date.now() - 1_000,
      pid,
      action: 'suspend',
    };
    deliver(command);
    const [result] = await resultsOf(command.commandId, 1);
    expect(result).toMatchObject({ ok: false, error: { code: 'deadline_exceeded' } });
    expect(procState(pid, read)).toBe('S');
  });
});
