/**
 * The OpAMP messages. We use the schema generated from opamp-spec's .proto files that
 * `@elastic/opamp-client-node` ships for `@bufbuild/protobuf`, so our wire format cannot drift
 * from a maintained third-party client's.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  AgentToServerSchema,
  ServerToAgentSchema,
  type AgentToServer,
  type ServerToAgent,
} from '@elastic/opamp-client-node/lib/generated/opamp_pb.js';
import {
  KeyValueSchema,
  type KeyValue,
} from '@elastic/opamp-client-node/lib/generated/anyvalue_pb.js';
import { decodeFrame, encodeFrame } from './framing.js';

export {
  AgentCapabilities,
  AgentDescriptionSchema,
  AgentToServerFlags,
  AgentToServerSchema,
  CustomCapabilitiesSchema,
  CustomMessageSchema,
  ServerCapabilities,
  ServerErrorResponseSchema,
  ServerErrorResponseType,
  ServerToAgentFlags,
  ServerToAgentSchema,
} from '@elastic/opamp-client-node/lib/generated/opamp_pb.js';
export type {
  AgentDescription,
  AgentToServer,
  CustomCapabilities,
  CustomMessage,
  ServerToAgent,
} from '@elastic/opamp-client-node/lib/generated/opamp_pb.js';
export { AnyValueSchema } from '@elastic/opamp-client-node/lib/generated/anyvalue_pb.js';
export type { AnyValue, KeyValue } from '@elastic/opamp-client-node/lib/generated/anyvalue_pb.js';
export { create, KeyValueSchema };

/** OpAMP over plain HTTP uses this content type for both directions. */
export const OPAMP_HTTP_CONTENT_TYPE = 'application/x-protobuf';
/** The path of both OpAMP transports on the control API. */
export const OPAMP_PATH = '/v1/opamp';
/** Heartbeat interval agents are asked to keep; two missed heartbeats mean offline. */
export const HEARTBEAT_INTERVAL_SECONDS = 30;

export function encodeAgentToServer(message: AgentToServer): Uint8Array {
  return toBinary(AgentToServerSchema, message);
}
export function decodeAgentToServer(bytes: Uint8Array): AgentToServer {
  return fromBinary(AgentToServerSchema, bytes);
}
export function encodeServerToAgent(message: ServerToAgent): Uint8Array {
  return toBinary(ServerToAgentSchema, message);
}
export function decodeServerToAgent(bytes: Uint8Array): ServerToAgent {
  return fromBinary(ServerToAgentSchema, bytes);
}

/** WebSocket transport: protobuf wrapped in the OpAMP frame header. */
export const websocketFrames = {
  encodeAgentToServer: (m: AgentToServer) => encodeFrame(encodeAgentToServer(m)),
  decodeAgentToServer: (f: Uint8Array) => decodeAgentToServer(decodeFrame(f)),
  encodeServerToAgent: (m: ServerToAgent) => encodeFrame(encodeServerToAgent(m)),
  decodeServerToAgent: (f: Uint8Array) => decodeServerToAgent(decodeFrame(f)),
};

/** OTel resource attributes travel as OpAMP KeyValues; flatten scalar ones to strings. */
export function keyValuesToRecord(attributes: readonly KeyValue[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (const { key, value } of attributes) {
    const v = value?.value;
    if (!v || v.case === undefined) continue;
    if (v.case === 'stringValue' || v.case === 'boolValue' || v.case === 'doubleValue') {
      record[key] = String(v.value);
    } else if (v.case === 'intValue') {
      record[key] = v.value.toString();
    }
  }
  return record;
}

export function recordToKeyValues(record: Record<string, string>): KeyValue[] {
  return Object.entries(record).map(([key, value]) =>
    create(KeyValueSchema, { key, value: { value: { case: 'stringValue', value } } }),
  );
}

/** Instance uids are 16 raw bytes on the wire and a UUID string everywhere else. */
export function instanceUidToString(uid: Uint8Array): string {
  if (uid.length !== 16) throw new RangeError(`instance_uid must be 16 bytes, got ${uid.length}`);
  const hex = Buffer.from(uid).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function instanceUidFromString(uuid: string): Uint8Array {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new RangeError(`not a UUID: ${uuid}`);
  return new Uint8Array(Buffer.from(hex, 'hex'));
}
