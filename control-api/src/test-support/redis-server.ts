import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../infra/embedded-postgres.js';

export interface RedisServer {
  url: string;
  port: number;
  /** The pid of the redis-server this helper spawned (undefined while stopped). */
  readonly pid: number | undefined;
  /** Stops the server (SIGTERM to its own pid); it forgets everything (no persistence). */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty, e.g. after `stop` to play an outage. */
  restart(): Promise<void>;
}

/** Starts a throw-away `redis-server` (Debian package redis-server) on a free loopback port. */
export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined = await spawnRedis(port);
  const stop = () =>
    new Promise<void>((resolve) => {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null || running.signalCode !== null) return resolve();
      running.once('exit', () => resolve());
      running.kill('SIGTERM');
    });
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid() {
      return child?.pid;
    },
    stop,
    restart: async () => {
      await stop();
      child = await spawnRedis(port);
    },
  };
}

async function spawnRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () => reject(new Error(`redis-server did not start: ${output}`)),
      15_000,
    );
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(
        new Error(
          `cannot run redis-server (install the Debian package "redis-server"): ${error.message}`,
        ),
      );
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${output}`));
    });
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  child.removeAllListeners('exit');
  // stdout is drained by the listener above; stderr too, so a chatty server never blocks.
  child.stderr.resume();
  return child;
}
