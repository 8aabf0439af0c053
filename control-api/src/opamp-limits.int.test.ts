import { randomUUID } from 'node:crypto';
import {
  CONTROL_CAPABILITY,
  ServerErrorResponseType,
  encodeControlData,
} from '@cybercorp/protocol';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAgent } from './test-support/fake-agent.js';
import type { ApiClient } from './test-support/rest-client.js';
import { startTestApiWithAdmin, type TestApi } from './test-support/test-api.js';

const MESSAGES_PER_MINUTE = 200;
const MAX_CONNECTIONS = 50;

let api: TestApi;
let admin: ApiClient;
let token: string;
const agents: FakeAgent[] = [];

beforeAll(async () => {
  ({ api, admin } = await startTestApiWithAdmin({
    opampMessagesPerMinute: MESSAGES_PER_MINUTE,
    opampMaxConnections: MAX_CONNECTIONS,
  }));
  token = await api.createAgentToken('opamp-limits');
});
afterAll(async () => {
  for (const agent of agents) await agent.drop().catch(() => undefined);
  await api?.stop();
});

async function startAgent(): Promise<FakeAgent> {
  const agent = await FakeAgent.start({ url: api.opampUrl, token, heartbeatMs: 0 });
  agents.push(agent);
  return agent;
}

async function metric(line: RegExp): Promise<number> {
  const text = await (await fetch(`${api.url}/metrics`)).text();
  const match = text.split('\n').find((l) => line.test(l));
  return match ? Number(match.split(' ').pop()) : 0;
}

/** An upgrade attempt that reads the refusal (status, Retry-After, problem) if there is one. */
function tryUpgrade(): Promise<
  { opened: WebSocket } | { status: number; retryAfter: string | undefined; body: string }
> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(api.opampUrl, { headers: { authorization: `Bearer ${token}` } });
    ws.once('open', () => resolve({ opened: ws }));
    ws.once('unexpected-response', (_request, response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        resolve({
          status: response.statusCode ?? 0,
          retryAfter: response.headers['retry-after'],
          body,
        });
        ws.terminate();
      });
    });
    ws.once('error', reject);
  });
}

describe('OPAMP_MESSAGES_PER_MINUTE', () => {
  it('answers a flood with UNAVAILABLE and retry_info, then closes it with 1008', async () => {
    const bystander = await startAgent();
    const flooder = await startAgent();
    const rejectedBefore = await metric(
      /^cybercorp_opamp_rejected_messages_total\{reason="rate_limited"\}/,
    );
    // The first message (start) counts too; far more than the limit and its grace follow.
    for (let i = 0; i < MESSAGES_PER_MINUTE * 3; i++) flooder.send();
    const closed = await flooder.closed;
    expect(closed).toEqual({ code: 1008, reason: 'message rate limit exceeded' });

    const errors = flooder.replies.filter((r) => r.errorResponse);
    expect(errors).toHaveLength(1);
    const error = errors[0]!.errorResponse!;
    expect(error.type).toBe(ServerErrorResponseType.ServerErrorResponseType_Unavailable);
    expect(error.Details.case).toBe('retryInfo');
    const retryAfterNs =
      error.Details.case === 'retryInfo' ? error.Details.value.retryAfterNanoseconds : 0n;
    expect(retryAfterNs).toBeGreaterThan(0n);
    expect(retryAfterNs).toBeLessThanOrEqual(60_000_000_000n);
    // Nothing over the limit was handled: at most one reply per allowed message.
    expect(flooder.replies.length - errors.length).toBeLessThanOrEqual(MESSAGES_PER_MINUTE);
    expect(
      await metric(/^cybercorp_opamp_rejected_messages_total\{reason="rate_limited"\}/),
    ).toBeGreaterThan(rejectedBefore + MESSAGES_PER_MINUTE / 10);

    // Another agent's connection is untouched.
    expect((await bystander.sendAndWait()).errorResponse).toBeUndefined();
    await bystander.drop();
  });

  it('counts results for unknown commands instead of relaying them', async () => {
    const agent = await startAgent();
    const before = await metric(/^cybercorp_opamp_unknown_results_total /);
    const results = 25;
    for (let i = 0; i < results; i++) {
      agent.send({
        customMessage: {
          capability: CONTROL_CAPABILITY,
          type: 'result',
          data: encodeControlData({ type: 'result', commandId: randomUUID(), ok: true, data: {} }),
        },
      });
    }
    // Each message is answered once it has been handled; the last answer means all were.
    await agent.until(() => agent.replies.length > results);
    expect(await metric(/^cybercorp_opamp_unknown_results_total /)).toBe(before + results);
    expect(agent.isOpen).toBe(true);
    await agent.drop();
  });
});

describe('OPAMP_MAX_CONNECTIONS', () => {
  it('refuses the 51st agent with 503 and Retry-After before the upgrade; the 50 stay', async () => {
    const connected: FakeAgent[] = [];
    for (let i = 0; i < MAX_CONNECTIONS; i++) connected.push(await startAgent());

    const refusal = await tryUpgrade();
    expect(refusal).toMatchObject({ status: 503, retryAfter: '30' });
    if ('body' in refusal) {
      expect(JSON.parse(refusal.body)).toMatchObject({ code: 'service_unavailable', status: 503 });
    }
    expect(await metric(/^cybercorp_opamp_refused_connections_total\{reason="connections"\}/)).toBe(
      1,
    );

    // Every one of the first 50 is still connected and still answered.
    const replies = await Promise.all(connected.map((agent) => agent.sendAndWait()));
    expect(replies.every((reply) => reply.errorResponse === undefined)).toBe(true);
    expect(connected.every((agent) => agent.isOpen)).toBe(true);
    const online = await Promise.all(
      connected.map(
        async (agent) =>
          (await admin.request<{ online: boolean }>('GET', `/api/v1/agents/${agent.instanceUid}`))
            .body.online,
      ),
    );
    expect(online.every(Boolean)).toBe(true);

    // A closed connection frees its place (once the server has seen the socket close).
    await connected[0]!.drop();
    let next = await tryUpgrade();
    for (let attempt = 0; attempt < 50 && !('opened' in next); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      next = await tryUpgrade();
    }
    expect('opened' in next).toBe(true);
    if ('opened' in next) next.opened.terminate();
    for (const agent of connected) await agent.drop();
  });
});
