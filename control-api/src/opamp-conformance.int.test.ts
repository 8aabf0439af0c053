import { request as httpRequest } from 'node:http';
import { randomUUID } from 'node:crypto';
import {
  AgentCapabilities,
  AgentToServerSchema,
  OPAMP_HTTP_CONTENT_TYPE,
  OPAMP_PATH,
  ServerErrorResponseType,
  ServerToAgentFlags,
  create,
  decodeServerToAgent,
  encodeAgentToServer,
  instanceUidFromString,
  instanceUidToString,
  recordToKeyValues,
  type ServerToAgent,
} from '@cybercorp/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FAKE_AGENT_CAPABILITIES,
  FakeAgent,
  PROCESS_FIXTURE,
  ok,
} from './test-support/fake-agent.js';
import type { ApiClient } from './test-support/rest-client.js';
import { startTestApiWithAdmin, type TestApi } from './test-support/test-api.js';

/** Short, so that "silent for longer than two heartbeats" is a few seconds. */
const HEARTBEAT_SECONDS = 1;
const REPORT_FULL_STATE = BigInt(ServerToAgentFlags.ServerToAgentFlags_ReportFullState);
const ACCEPTS_CONNECTION_SETTINGS = BigInt(
  AgentCapabilities.AgentCapabilities_AcceptsOpAMPConnectionSettings,
);
const REPORTS_STATUS_ONLY = BigInt(AgentCapabilities.AgentCapabilities_ReportsStatus);
/** The one source address the API trusts as a proxy (TRUSTED_PROXIES); the agents are 127.0.0.1. */
const GATEWAY = '127.0.0.2';

let api: TestApi;
let admin: ApiClient;
let token: string;
const agents: FakeAgent[] = [];

beforeAll(async () => {
  ({ api, admin } = await startTestApiWithAdmin({
    heartbeatSeconds: HEARTBEAT_SECONDS,
    trustedProxies: [GATEWAY],
  }));
  token = await api.createAgentToken('opamp-conformance');
});
afterAll(async () => {
  for (const agent of agents) await agent.drop().catch(() => undefined);
  await api?.stop();
});

async function startAgent(options: { capabilities?: bigint; autoPong?: boolean } = {}) {
  const agent = await FakeAgent.start({ url: api.opampUrl, token, heartbeatMs: 0, ...options });
  agents.push(agent);
  return agent;
}

/**
 * One OpAMP plain-HTTP poll, with the headers given (Host and forwarding headers included), from
 * the loopback address `from`.
 */
function poll(
  body: Uint8Array,
  headers: Record<string, string> = {},
  from = '127.0.0.1',
): Promise<{ status: number; contentType: string | undefined; reply: ServerToAgent }> {
  const url = new URL(api.url + OPAMP_PATH);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        localAddress: from,
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': OPAMP_HTTP_CONTENT_TYPE,
          'content-length': String(body.length),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'],
            reply: decodeServerToAgent(new Uint8Array(Buffer.concat(chunks))),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(Buffer.from(body));
  });
}

function pollMessage(
  instanceUid: string,
  sequenceNum: bigint,
  capabilities = FAKE_AGENT_CAPABILITIES,
) {
  return encodeAgentToServer(
    create(AgentToServerSchema, {
      instanceUid: instanceUidFromString(instanceUid),
      sequenceNum,
      capabilities,
      agentDescription: {
        identifyingAttributes: recordToKeyValues({ 'service.name': 'poller' }),
        nonIdentifyingAttributes: recordToKeyValues({ 'host.name': 'poller-host' }),
      },
    }),
  );
}

describe('a gap in sequence_num asks for the full state', () => {
  it('on a WebSocket: the reply to a message after a gap sets ReportFullState', async () => {
    const agent = await startAgent(); // sends sequence_num 0 with its full description
    expect((await agent.sendAndWait({ sequenceNum: 1n })).flags & REPORT_FULL_STATE).toBe(0n);
    const afterGap = await agent.sendAndWait({ sequenceNum: 5n });
    expect(afterGap.flags & REPORT_FULL_STATE).toBe(REPORT_FULL_STATE);
    expect((await agent.sendAndWait({ sequenceNum: 6n })).flags & REPORT_FULL_STATE).toBe(0n);
    await agent.drop();
  });

  it('over plain HTTP: polls are counted across requests', async () => {
    const uid = randomUUID();
    expect((await poll(pollMessage(uid, 1n))).reply.flags & REPORT_FULL_STATE).toBe(0n);
    expect((await poll(pollMessage(uid, 2n))).reply.flags & REPORT_FULL_STATE).toBe(0n);
    const afterGap = await poll(pollMessage(uid, 4n));
    expect(afterGap.status).toBe(200);
    expect(afterGap.reply.flags & REPORT_FULL_STATE).toBe(REPORT_FULL_STATE);
  });
});

describe('heartbeats', () => {
  it("move the agent's lastSeenAt forward and leave the rest of its row as described", async () => {
    const agent = await startAgent();
    const seen = async () =>
      (
        await admin.request<{ lastSeenAt: string; hostname: string | null }>(
          'GET',
          `/api/v1/agents/${agent.instanceUid}`,
        )
      ).body;
    const first = await seen();
    for (let beat = 0; beat < 2; beat++) {
      // Past the write throttle (at most one write a second per agent), then a bare heartbeat.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await agent.sendAndWait();
    }
    const later = await seen();
    expect(Date.parse(later.lastSeenAt)).toBeGreaterThan(Date.parse(first.lastSeenAt) + 2000);
    expect(later.hostname).toBe(first.hostname);
    expect(later.hostname).not.toBeNull();
    await agent.drop();
  });
});

describe('connection_settings', () => {
  it('are not offered to an agent that does not accept OpAMP connection settings', async () => {
    const agent = await startAgent({ capabilities: FAKE_AGENT_CAPABILITIES });
    expect(agent.replies[0]!.connectionSettings).toBeUndefined();
    await agent.drop();
  });

  it('name the URL the agent connected to, with the heartbeat interval', async () => {
    const agent = await startAgent({
      capabilities: FAKE_AGENT_CAPABILITIES | ACCEPTS_CONNECTION_SETTINGS,
    });
    const opamp = agent.replies[0]!.connectionSettings?.opamp;
    expect(opamp?.destinationEndpoint).toBe(api.opampUrl);
    expect(opamp?.heartbeatIntervalSeconds).toBe(BigInt(HEARTBEAT_SECONDS));
    // Later replies of the same connection carry no new offer.
    expect((await agent.sendAndWait()).connectionSettings).toBeUndefined();
    await agent.drop();
  });

  it('follow a trusted proxy’s forwarding headers, and are left out when no usable host is known', async () => {
    const accepting = FAKE_AGENT_CAPABILITIES | ACCEPTS_CONNECTION_SETTINGS;
    const forwarding = {
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'fleet.example.com',
    };
    const proxied = await poll(pollMessage(randomUUID(), 1n, accepting), forwarding, GATEWAY);
    expect(proxied.reply.connectionSettings?.opamp?.destinationEndpoint).toBe(
      'https://fleet.example.com/v1/opamp',
    );
    // From any other peer the headers are the client's claims: the offer stays the URL it used.
    const spoofed = await poll(pollMessage(randomUUID(), 1n, accepting), forwarding);
    expect(spoofed.reply.connectionSettings?.opamp?.destinationEndpoint).toBe(
      `${api.url}/v1/opamp`,
    );
    const noHost = await poll(pollMessage(randomUUID(), 1n, accepting), {
      host: 'not a host name',
    });
    expect(noHost.status).toBe(200);
    expect(noHost.reply.connectionSettings).toBeUndefined();
  });
});

describe('agents without ReportsHeartbeat', () => {
  it('stay connected and online while silent, as long as they answer pings', async () => {
    const silent = await startAgent({ capabilities: REPORTS_STATUS_ONLY });
    // Four pings, one per heartbeat interval: well past the 2.25 intervals that close a
    // heartbeat agent, without a single message from this one.
    await silent.until(() => silent.pings >= 4);
    expect(silent.isOpen).toBe(true);
    const row = await admin.request<{ online: boolean }>(
      'GET',
      `/api/v1/agents/${silent.instanceUid}`,
    );
    expect(row.body.online).toBe(true);
    expect((await silent.sendAndWait()).errorResponse).toBeUndefined();
    await silent.drop();
  });

  it('are closed when their pongs stop', async () => {
    const hung = await startAgent({ capabilities: REPORTS_STATUS_ONLY, autoPong: false });
    const closed = await hung.closed;
    expect(closed.code).toBe(4001);
    expect(hung.pings).toBeGreaterThanOrEqual(1);
    const row = await admin.request<{ online: boolean }>(
      'GET',
      `/api/v1/agents/${hung.instanceUid}`,
    );
    expect(row.body.online).toBe(false);
  });

  it('while an agent declaring ReportsHeartbeat is still closed for silence', async () => {
    const quiet = await startAgent({ capabilities: FAKE_AGENT_CAPABILITIES });
    expect((await quiet.closed).code).toBe(4001);
    expect(quiet.pings).toBeGreaterThanOrEqual(1); // it did answer pings; messages were due
  });
});

describe('a malformed message gets error_response BAD_REQUEST', () => {
  it('on a WebSocket, which stays open (the agent must not retry that message)', async () => {
    const agent = await startAgent();
    const before = agent.replies.length;
    agent.sendRaw(Buffer.from([0x05, 0x0a, 0x01])); // OpAMP frame header 5 does not exist
    await agent.until(() => agent.replies.length > before);
    const reply = agent.replies[before]!;
    expect(reply.errorResponse?.type).toBe(
      ServerErrorResponseType.ServerErrorResponseType_BadRequest,
    );
    expect(reply.errorResponse?.errorMessage).toMatch(/frame header/);
    expect(instanceUidToString(reply.instanceUid)).toBe(agent.instanceUid);
    expect((await agent.sendAndWait()).errorResponse).toBeUndefined();
    await agent.drop();
  });

  it('over plain HTTP, as a 400 whose body is that ServerToAgent', async () => {
    const answer = await poll(new Uint8Array([0x0a, 0x03, 1, 2, 3])); // a 3-byte instance_uid
    expect(answer.status).toBe(400);
    expect(answer.contentType).toBe(OPAMP_HTTP_CONTENT_TYPE);
    expect(answer.reply.errorResponse?.type).toBe(
      ServerErrorResponseType.ServerErrorResponseType_BadRequest,
    );
    expect(answer.reply.errorResponse?.errorMessage).toMatch(/instance_uid must be 16 bytes/);
  });
});

describe('permessage-deflate', () => {
  it('decodes one compressed result after another on a connection (its zlib stream is closed between them)', async () => {
    // 300 processes: far over the 1 KB threshold, so the agent's side compresses every result.
    const processes = Array.from({ length: 300 }, (_, i) => ({
      ...PROCESS_FIXTURE[0]!,
      pid: 1000 + i,
      command: `worker --id ${i}`,
    }));
    const agent = await FakeAgent.start({
      url: api.opampUrl,
      token,
      heartbeatMs: 0,
      respond: (command) => ok(command, processes),
    });
    agents.push(agent);
    for (let i = 0; i < 3; i++) {
      const reply = await admin.request<{ items: { pid: number }[] }>(
        'GET',
        `/api/v1/agents/${agent.instanceUid}/processes`,
      );
      expect(reply.status).toBe(200);
      expect(reply.body.items.map((p) => p.pid)).toEqual(processes.map((p) => p.pid));
      // A small message in between goes out uncompressed and is answered as usual.
      expect((await agent.sendAndWait()).errorResponse).toBeUndefined();
    }
    await agent.drop();
  });
});
