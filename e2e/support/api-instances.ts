/**
 * Several `cybercorp-control-api` processes of one deployment, each a child the test spawned (so
 * that one can be stopped, gracefully or by SIGKILL to its own pid): one PostgreSQL and one
 * redis-server that the test runs itself (so they outlive any instance), the same signing key
 * file, each instance serving HTTPS with the given certificate.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startEmbeddedPostgres,
  type EmbeddedDatabase,
} from '../../control-api/src/infra/embedded-postgres.js';
import type { DevCerts } from '../../control-api/src/test-support/dev-certs.js';
import {
  startRedisServer,
  type RedisServer,
} from '../../control-api/src/test-support/redis-server.js';
import { ADMIN } from '../../control-api/src/test-support/test-api.js';
import { startControlApi, type RunningControlApi } from './control-stack.js';

export interface ApiInstances {
  readonly instances: RunningControlApi[];
  readonly redis: RedisServer;
  readonly database: EmbeddedDatabase;
  /** Which instance holds the agents' WebSockets now: the one whose gauge counts `agents`. */
  holderOf(agents?: number): Promise<RunningControlApi | undefined>;
  /**
   * Starts a new instance on the port of one that stopped (a restart, as a rolling update does
   * it), in its place in `instances`: the gateway's upstream list stays valid.
   */
  replace(stopped: RunningControlApi): Promise<RunningControlApi>;
  /** Stops every instance still running, then Redis and PostgreSQL, and removes the files. */
  stop(): Promise<void>;
}

/** Starts `count` instances one after the other (the first creates the signing key file). */
export async function startApiInstances(options: {
  count: number;
  certs: DevCerts;
  ca: Buffer;
  env?: NodeJS.ProcessEnv;
}): Promise<ApiInstances> {
  const dir = await mkdtemp(join(tmpdir(), 'cybercorp-instances-'));
  const started: { database?: EmbeddedDatabase; redis?: RedisServer } = {};
  const instances: RunningControlApi[] = [];
  const stop = async () => {
    for (const instance of instances) await instance.stop().catch(() => undefined);
    await started.redis?.stop();
    await started.database?.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const database = (started.database = await startEmbeddedPostgres(join(dir, 'postgres')));
    const redis = (started.redis = await startRedisServer());
    const startInstance = async (port = 0) =>
      startControlApi({
        workDir: await mkdtemp(join(dir, 'instance-')),
        admin: ADMIN,
        port,
        ca: options.ca,
        env: {
          DATABASE_URL: database.url,
          REDIS_URL: redis.url,
          CYBERCORP_JWT_SECRET_FILE: join(dir, 'jwt-keys.json'),
          TLS_CERT_FILE: options.certs.certFile,
          TLS_KEY_FILE: options.certs.keyFile,
          ...options.env,
        },
      });
    for (let i = 0; i < options.count; i++) instances.push(await startInstance());
    return {
      instances,
      redis,
      database,
      holderOf: async (agents = 1) => {
        for (const instance of instances) {
          if (instance.process.exited()) continue;
          const metrics = await instance.client.request<string>('GET', '/metrics');
          const held = /^cybercorp_opamp_connections\{transport="websocket"\} (\d+)$/m.exec(
            metrics.body,
          );
          if (Number(held?.[1]) === agents) return instance;
        }
        return undefined;
      },
      replace: async (stopped) => {
        const index = instances.indexOf(stopped);
        if (index < 0 || !stopped.process.exited()) {
          throw new Error('replace: not a stopped instance of this deployment');
        }
        const restarted = await startInstance(stopped.port);
        instances[index] = restarted;
        return restarted;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
