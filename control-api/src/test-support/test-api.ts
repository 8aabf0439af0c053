import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ControlApiOptions } from '../config.js';
import { startControlApi, type ControlApi } from '../server.js';
import type { DevCerts } from './dev-certs.js';
import { ApiClient } from './rest-client.js';

/** The REST rate limit of test instances unless a test asks for another. */
export const TEST_RATE_LIMIT_PER_MINUTE = 100_000;

export const ADMIN = { username: 'admin', password: 'admin-password-for-tests' };

export interface TestApi extends ControlApi {
  dataDir: string;
  stop(): Promise<void>;
}

/** The options of a test API: the API's own, and `certs` to serve HTTPS and WSS with. */
export interface TestApiOptions extends ControlApiOptions {
  /** From `makeDevCerts()`: sets tlsCertFile and tlsKeyFile, so `url` is https://… */
  certs?: Pick<DevCerts, 'certFile' | 'keyFile'>;
}

/**
 * A real control API on a free port over the embedded PostgreSQL in `dataDir`, which it leaves
 * in place when stopped (to be started on again).
 */
export async function startTestApiOn(
  dataDir: string,
  { certs, ...options }: TestApiOptions = {},
): Promise<TestApi> {
  const api = await startControlApi({
    ...(certs && { tlsCertFile: certs.certFile, tlsKeyFile: certs.keyFile }),
    port: 0,
    host: '127.0.0.1',
    dataDir,
    adminUser: ADMIN.username,
    adminPassword: ADMIN.password,
    logLevel: 'silent',
    ...options,
  });
  return { ...api, dataDir, stop: () => api.close() };
}

/** A real control API on a free port with its own embedded PostgreSQL in a temporary directory. */
export async function startTestApi(options: TestApiOptions = {}): Promise<TestApi> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'control-api-'));
  try {
    const api = await startTestApiOn(dataDir, {
      // Tests send requests at machine speed; the rate-limit tests ask for the real default.
      rateLimitPerMinute: TEST_RATE_LIMIT_PER_MINUTE,
      ...options,
    });
    return {
      ...api,
      stop: async () => {
        await api.stop();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/** A test API and a client logged in as its seeded admin. */
export async function startTestApiWithAdmin(
  options: TestApiOptions = {},
): Promise<{ api: TestApi; admin: ApiClient }> {
  const api = await startTestApi(options);
  const admin = new ApiClient(api.url);
  try {
    await admin.login(ADMIN.username, ADMIN.password);
  } catch (error) {
    await api.stop();
    throw error;
  }
  return { api, admin };
}
