// A throw-away redis-server (Debian package redis-server) for the benches, on a free loopback
// port, without persistence. The tests have their own in control-api/src/test-support, which is
// TypeScript and not built; a bench runs plain Node.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { freeLoopbackPort } from './ports.mjs';

/** Resolves once the server accepts connections; `stop()` ends it. */
export async function startRedisServer() {
  const port = await freeLoopbackPort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  const ready = new Promise((resolve, reject) => {
    child.once('error', (error) =>
      reject(new Error(`cannot run redis-server (Debian package redis-server): ${error.message}`)),
    );
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
    child.stdout.on('data', (chunk) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve();
    });
  });
  const timeout = setTimeout(() => child.kill('SIGTERM'), 15_000);
  await ready.finally(() => clearTimeout(timeout));
  child.removeAllListeners('exit');
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
