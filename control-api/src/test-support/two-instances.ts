import path from 'node:path';
import { JWT_KEY_FILE_NAME } from '../auth/signing-keys.js';
import type { ControlApiOptions } from '../config.js';
import { startControlApi, type ControlApi } from '../server.js';
import { startRedisServer, type RedisServer } from './redis-server.js';
import { startTestApi, type TestApi } from './test-api.js';

export interface TwoInstances {
  redis: RedisServer;
  /** Owns the embedded PostgreSQL and the signing key file. */
  first: TestApi;
  /** Connects to the first one's database. */
  second: ControlApi;
  stop(): Promise<void>;
}

/**
 * One more instance of the deployment `first` belongs to: the same database, the same signing
 * key file (the instances of a deployment share it) and the same Redis.
 */
export function startAnotherInstance(
  first: TestApi,
  redisUrl: string,
  options: ControlApiOptions = {},
): Promise<ControlApi> {
  return startControlApi({
    port: 0,
    databaseUrl: first.databaseUrl,
    jwtSecretFile: path.join(first.dataDir, JWT_KEY_FILE_NAME),
    redisUrl,
    logLevel: 'silent',
    ...options,
  });
}

/** Two API instances sharing a real redis-server and one database; `options` apply to both. */
export async function startTwoInstances(options: ControlApiOptions = {}): Promise<TwoInstances> {
  const redis = await startRedisServer();
  let first: TestApi | undefined;
  try {
    first = await startTestApi({ redisUrl: redis.url, ...options });
    const second = await startAnotherInstance(first, redis.url, options);
    const started = first;
    return {
      redis,
      first,
      second,
      stop: async () => {
        await second.close();
        await started.stop();
        await redis.stop();
      },
    };
  } catch (error) {
    await first?.stop();
    await redis.stop();
    throw error;
  }
}
