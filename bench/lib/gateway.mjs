// The gateway for the benches: Debian's nginx on the project's own configuration
// (gateway/deployment.mjs writes the deployment, as for the tests), on a free loopback port,
// stopped by its own pid. The tests' helper is e2e/support/gateway.ts (TypeScript, not built).
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { upstreamAddress, writeDeployment } from '../../gateway/deployment.mjs';
import { freeLoopbackPort, waitForPort } from './ports.mjs';

const DEV_CERTS = resolve(fileURLToPath(import.meta.url), '../../../scripts/dev-certs');

/** Runs scripts/dev-certs into `dir`; resolves with the paths the gateway and the API take. */
export async function makeDevCerts(dir) {
  await promisify(execFile)('bash', [DEV_CERTS, dir]).catch((error) => {
    throw new Error(`scripts/dev-certs failed (is openssl installed?): ${error.message}`);
  });
  return {
    dir,
    caFile: join(dir, 'ca.crt'),
    certFile: join(dir, 'server.crt'),
    keyFile: join(dir, 'server.key'),
  };
}

/** Starts nginx in front of `upstreams` (https:// base URLs); `stop()` ends it by its pid. */
export async function startGateway({ upstreams, certs }) {
  const port = await freeLoopbackPort();
  const dir = mkdtempSync(join(tmpdir(), 'cybercorp-bench-gateway-'));
  const deployment = writeDeployment(dir, {
    host: '127.0.0.1',
    port,
    upstreams: upstreams.map(upstreamAddress),
    certs,
  });
  const child = spawn('nginx', deployment.args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.race([
      waitForPort(port, 'nginx', 15_000),
      new Promise((_, fail) => {
        child.once('error', (error) =>
          fail(new Error(`cannot run nginx (Debian package nginx): ${error.message}`)),
        );
        child.once('exit', (code) => fail(new Error(`nginx exited with ${code}`)));
      }),
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  child.removeAllListeners('exit');
  return { url: `https://127.0.0.1:${port}`, opampUrl: `wss://127.0.0.1:${port}/v1/opamp`, stop };
}
