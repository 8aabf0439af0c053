import { describe, expect, it } from 'vitest';
import {
  ControlMessageError,
  decodeAgentMessage,
  decodeControlCommand,
  encodeControlData,
} from './control.js';
import {
  create,
  AgentToServerSchema,
  websocketFrames,
  instanceUidFromString,
  instanceUidToString,
  keyValuesToRecord,
  recordToKeyValues,
} from './opamp.js';

const commandId = '0192f6e4-7b1c-7cc0-8a3e-5d1f2a3b4c5d';
const bytes = (s: string) => new TextEncoder().encode(s);

describe('control capability messages', () => {
  it('round-trips a process.signal command', () => {
    const command = {
      type: 'process.signal',
      commandId,
      deadline: 1_800_000_000_000,
      pid: 4242,
      action: 'suspend',
    } as const;
    expect(decodeControlCommand(encodeControlData(command))).toEqual(command);
  });

  it('carries the start time the caller saw, and refuses one that is not an ISO timestamp', () => {
    const command = {
      type: 'process.signal',
      commandId,
      deadline: 1_800_000_000_000,
      pid: 4242,
      action: 'terminate',
      startedAt: '2026-01-01T00:00:00.000Z',
    } as const;
    expect(decodeControlCommand(encodeControlData(command))).toEqual(command);
    expect(() =>
      decodeControlCommand(encodeControlData({ ...command, startedAt: 'yesterday' })),
    ).toThrow(ControlMessageError);
  });

  it('decodes a process_changed refusal', () => {
    const failed = decodeAgentMessage(
      bytes(
        `{"type":"result","commandId":"${commandId}","ok":false,"error":{"code":"process_changed","message":"pid 7 was restarted"}}`,
      ),
    );
    expect(failed).toMatchObject({ ok: false, error: { code: 'process_changed' } });
  });

  it('refuses an unknown action, a non-positive pid and non-JSON data', () => {
    expect(() =>
      decodeControlCommand(
        bytes(
          `{"type":"process.signal","commandId":"${commandId}","deadline":1,"pid":1,"action":"explode"}`,
        ),
      ),
    ).toThrow(ControlMessageError);
    expect(() =>
      decodeControlCommand(
        bytes(`{"type":"process.get","commandId":"${commandId}","deadline":1,"pid":0}`),
      ),
    ).toThrow(ControlMessageError);
    expect(() => decodeControlCommand(new Uint8Array([0xff, 0xfe]))).toThrow(/UTF-8 JSON/);
  });

  it('decodes failed results with a stable code and window events', () => {
    const failed = decodeAgentMessage(
      bytes(
        `{"type":"result","commandId":"${commandId}","ok":false,"error":{"code":"protected_process","message":"pid 1"}}`,
      ),
    );
    expect(failed).toMatchObject({ ok: false, error: { code: 'protected_process' } });
    const event = decodeAgentMessage(
      bytes('{"type":"window.event","change":"added","windowId":"0x1a00003","windows":[],"at":1}'),
    );
    expect(event).toMatchObject({ type: 'window.event', windowId: '0x1a00003' });
  });

  it('refuses an agent error code outside the contract', () => {
    expect(() =>
      decodeAgentMessage(
        bytes(
          `{"type":"result","commandId":"${commandId}","ok":false,"error":{"code":"oops","message":""}}`,
        ),
      ),
    ).toThrow(ControlMessageError);
  });
});

describe('OpAMP helpers', () => {
  it('round-trips an AgentToServer message through WebSocket framing', () => {
    const uid = instanceUidFromString(commandId);
    const message = create(AgentToServerSchema, {
      instanceUid: uid,
      sequenceNum: 7n,
      capabilities: 3n,
    });
    const decoded = websocketFrames.decodeAgentToServer(
      websocketFrames.encodeAgentToServer(message),
    );
    expect(instanceUidToString(decoded.instanceUid)).toBe(commandId);
    expect(decoded.sequenceNum).toBe(7n);
  });

  it('flattens resource attributes', () => {
    expect(
      keyValuesToRecord(recordToKeyValues({ 'host.name': 'web-1', 'os.type': 'linux' })),
    ).toEqual({ 'host.name': 'web-1', 'os.type': 'linux' });
  });
});
