import express from 'express';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorHandler, notFoundHandler } from './error-handler.js';
import { silentLogger, type Logger } from './logger.js';
import { ReplyError } from 'ioredis';
import { ApiError } from './problem.js';
import { fromRedis } from './redis.js';

/** ioredis types its ReplyError as any. */
const RedisReplyError = ReplyError as new (message: string) => Error;

const logged: string[] = [];
const logger: Logger = { ...silentLogger, error: (message) => logged.push(message) };

let base = '';
const server = createServer(
  express()
    .post('/json', express.json({ limit: '10b' }), (_req, res) => {
      res.json({});
    })
    .get('/api-error', () => {
      throw new ApiError('protected_process', 'pid 1 is protected', { commandId: 'c1' });
    })
    .get('/database-down', () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
        code: 'ECONNREFUSED',
      });
    })
    .get('/redis-down', async () => {
      await fromRedis(Promise.reject(new Error("Stream isn't writeable (127.0.0.1:6379)")));
    })
    .get('/redis-reply-error', async () => {
      await fromRedis(Promise.reject(new RedisReplyError('ERR unknown command')));
    })
    .get('/bug', () => {
      throw new TypeError('cannot read properties of undefined');
    })
    .use(notFoundHandler())
    .use(errorHandler(logger)),
);

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

async function problem(path: string, init?: RequestInit) {
  const response = await fetch(base + path, init);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const post = (body: string) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body,
});

describe('errorHandler', () => {
  it('maps body-parser failures to client errors', async () => {
    expect(await problem('/json', post('{oops'))).toMatchObject({
      status: 400,
      body: { code: 'malformed_json' },
    });
    expect(await problem('/json', post('{"a":"0123456789"}'))).toMatchObject({
      status: 413,
      body: { code: 'payload_too_large' },
    });
    expect(logged).toEqual([]);
  });

  it('renders ApiErrors as RFC 9457 problems with their extensions', async () => {
    expect(await problem('/api-error')).toEqual({
      status: 403,
      body: {
        type: 'https://cybercorp.dev/problems/protected_process',
        title: 'Protected process',
        status: 403,
        detail: 'pid 1 is protected',
        code: 'protected_process',
        commandId: 'c1',
      },
    });
    expect(await problem('/missing')).toMatchObject({ status: 404, body: { code: 'not_found' } });
  });

  it('answers 500 internal_error for unexpected errors and logs them', async () => {
    const reply = await problem('/bug');
    expect(reply).toMatchObject({ status: 500, body: { code: 'internal_error' } });
    expect(JSON.stringify(reply.body)).not.toContain('undefined');
    expect(logged).toEqual(['unexpected error']);
  });

  it('answers 503 database_unavailable, without the driver message, when PostgreSQL is down', async () => {
    const response = await fetch(`${base}/database-down`);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.code).toBe('database_unavailable');
    expect(JSON.stringify(body)).not.toContain('ECONNREFUSED');
    expect(logged).not.toContain('database unavailable');
  });

  it('answers 503 redis_unavailable, without the client message, when Redis cannot be reached', async () => {
    const response = await fetch(`${base}/redis-down`);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    const body = (await response.json()) as Record<string, unknown>;
    expect(body.code).toBe('redis_unavailable');
    expect(JSON.stringify(body)).not.toContain('6379');
  });

  it('keeps an error Redis answered with (a bug, not an outage) a 500', async () => {
    expect(await problem('/redis-reply-error')).toMatchObject({
      status: 500,
      body: { code: 'internal_error' },
    });
  });
});
