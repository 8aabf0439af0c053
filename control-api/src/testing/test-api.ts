import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ControlApiOptions } from '../config.js';
import { startControlApi, type ControlApi } from '../server.js';

/** The REST rate limit of test instances unless a test asks for another. */
export const TEST_RATE_LIMIT_PER_MINUTE = 100_000;

export const ADMIN = { username: 'admin', password: 'admin-password-for-tests' };

export interface TestApi extends ControlApi {
  dataDir: string;
  stop(): Promise<void>;
}

/** A real control API on a free port with its own embedded PostgreSQL in a temporary directory. */
export async function startTestApi(options: ControlApiOptions = {}): Promise<TestApi> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'control-api-'));
  try {
    const api = await startControlApi({
      port: 0,
      host: '127.0.0.1',
      dataDir,
      adminUser: ADMIN.username,
      adminPassword: ADMIN.password,
      logLevel: 'silent',
      // Tests send requests at machine speed; the rate-limit tests ask for the real default.
      rateLimitPerMinute: TEST_RATE_LIMIT_PER_MINUTE,
      ...options,
    });
    return {
      ...api,
      dataDir,
      stop: async () => {
        await api.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

export interface Reply<T = Record<string, unknown>> {
  status: number;
  contentType: string;
  body: T;
}

/** A tiny REST client for tests. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    public accessToken?: string,
  ) {}

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply<T>> {
    const init: RequestInit = { method, headers: { ...headers } };
    if (this.accessToken)
      (init.headers as Record<string, string>).authorization = `Bearer ${this.accessToken}`;
    if (body !== undefined) {
      (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const response = await fetch(this.baseUrl + path, init);
    const text = await response.text();
    const contentType = response.headers.get('content-type') ?? '';
    return {
      status: response.status,
      contentType,
      body: (text && contentType.includes('json') ? JSON.parse(text) : text) as T,
    };
  }

  async login(
    username: string,
    password: string,
  ): Promise<{ accessToken: string; refreshToken: string }> {
    const reply = await this.request<{ accessToken: string; refreshToken: string }>(
      'POST',
      '/api/v1/auth/login',
      {
        username,
        password,
      },
    );
    if (reply.status !== 200)
      throw new Error(`login failed: ${reply.status} ${JSON.stringify(reply.body)}`);
    this.accessToken = reply.body.accessToken;
    return reply.body;
  }

  /** Creates a user as the current (admin) caller and returns a client logged in as it. */
  async userClient(username: string, role: 'viewer' | 'operator' | 'admin'): Promise<ApiClient> {
    const password = `${username}-password-123`;
    const created = await this.request('POST', '/api/v1/users', { username, password, role });
    if (created.status !== 201) throw new Error(`cannot create ${username}: ${created.status}`);
    const client = new ApiClient(this.baseUrl);
    await client.login(username, password);
    return client;
  }
}
