#!/usr/bin/env node
import { startAgent } from './agent.js';
import { createWindowController } from './control/windows.factory.js';
import { createLogger, logSettingsFromEnv, openLogger, type Logger } from './logger.js';
import { startAgentTelemetry } from './metrics/index.js';
import { agentVersion } from './resource.js';

const USAGE = `Usage: cybercorp-agent [--config FILE]

Environment:
  CYBERCORP_CONTROL_URL      OpAMP WebSocket URL, e.g. wss://cp.example/v1/opamp or, on this
                             host only, ws://127.0.0.1:8080/v1/opamp
                             (unset: telemetry only, no remote control)
  CYBERCORP_AGENT_TOKEN      agent token sent as Authorization: Bearer
  CYBERCORP_CA_FILE          PEM CA bundle that verifies the control plane (default: system store)
  CYBERCORP_TLS_PIN_SHA256   comma-separated SPKI SHA-256 pins (RFC 7469, base64); the server's
                             chain must carry one of them. Keep a backup pin for key rotation
  ALLOW_PLAINTEXT_HTTP       true: allow the token over ws:// to a host other than loopback
  CYBERCORP_AGENT_STATE_DIR  where the instance uid (and the export spool) is kept
  CYBERCORP_BUFFER_MAX_BYTES bound on metrics held while the Collector is unreachable
                             (default 33554432, 32 MiB; 0: keep nothing)
  CYBERCORP_BUFFER_SPOOL     memory (default) or file: hold them in 0600 files under the
                             state directory, kept across restarts
  LOG_LEVEL                  debug, info, warn, error, fatal (unset: info and 1 % of debug lines)
  LOG_DEBUG_SAMPLE           share of debug lines written (0-1)
  LOG_FILE, LOG_FILE_COUNT   also log to this file, rotated daily, keeping COUNT (30) old files
  OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_METRIC_EXPORT_INTERVAL, OTEL_RESOURCE_ATTRIBUTES,
  OTEL_SERVICE_NAME          standard OpenTelemetry settings
  OTEL_EXPORTER_OTLP_CERTIFICATE, OTEL_EXPORTER_OTLP_CLIENT_KEY,
  OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE (and their _METRICS_ forms)
                             OTLP over TLS: CA bundle, client key and certificate (mutual TLS)
`;

function parseArguments(argv: string[]): { configPath?: string; help: boolean; version: boolean } {
  const parsed: { configPath?: string; help: boolean; version: boolean } = {
    help: false,
    version: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') parsed.help = true;
    else if (arg === '--version') parsed.version = true;
    else if (arg === '--config') {
      const value = argv[++i];
      if (value === undefined) throw new Error('--config needs a file name');
      parsed.configPath = value;
    } else if (arg.startsWith('--config=')) parsed.configPath = arg.slice('--config='.length);
    else throw new Error(`unknown argument ${arg}`);
  }
  return parsed;
}

async function main(): Promise<void> {
  let args: ReturnType<typeof parseArguments>;
  try {
    args = parseArguments(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (args.version) {
    process.stdout.write(`${await agentVersion()}\n`);
    return;
  }
  const logSettings = logSettingsFromEnv(process.env);
  // stderr only, until LOG_FILE (if any) is open: a signal may arrive in between.
  let log: Logger = createLogger(logSettings).child({ component: 'agent' });

  // Signals are handled from before startup on: a SIGTERM that arrives while the agent is still
  // starting stops it cleanly once it is up, instead of killing it half-initialised (and "agent
  // started" then always means a SIGTERM is handled).
  let signalled = false;
  const stopSignal = new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) {
        log.warn('second signal: exiting without a clean shutdown', { signal });
        process.exit(1);
      }
      signalled = true;
      log.info('shutting down', { signal });
      resolve();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });

  const output = await openLogger(logSettings);
  log = output.logger.child({ component: 'agent' });

  const windows = createWindowController({
    onFeedError: (error) => log.warn('window change feed failed', { err: error }),
  });
  const agent = await startAgent({
    configPath: args.configPath,
    log,
    windows,
    telemetry: startAgentTelemetry,
  });
  if (!signalled) {
    log.info('agent started', {
      instanceUid: agent.instanceUid,
      hostName: agent.resource.attributes['host.name'],
      control: agent.client !== undefined,
    });
  }

  // An agent runs until told to stop, even when nothing else (no control URL, no telemetry)
  // holds the event loop open.
  const keepAlive = setInterval(() => {}, 2 ** 30);
  await stopSignal;
  clearInterval(keepAlive);
  try {
    await agent.stop();
  } catch (error) {
    log.error('shutdown failed', { err: error });
    await output.close();
    process.exit(1);
  }
  await output.close();
  process.exit(0);
}

main().catch((error: unknown) => {
  // The configured logger may be what failed (an invalid LOG_LEVEL): stderr at the defaults.
  createLogger({ level: 'info', debugSample: 0 })
    .child({ component: 'agent' })
    .fatal('agent failed to start', { err: error });
  process.exit(1);
});
