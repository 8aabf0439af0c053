import { ConfigStore } from './config/config-store.js';
import { resolveControlTls } from './config/control-tls.js';
import { readEnvironment, resolveStateDir, validateControlUrl } from './config/env.js';
import type { CommandExecutor } from './control/command-executor.js';
import { createProcessTable } from './control/process-table.js';
import type { ProcessTable } from './control/processes.js';
import type { WindowController } from './control/windows.js';
import type { ControlPlane } from './control-plane.js';
import { logSettingsFromEnv, openLogger, type Logger } from './logger.js';
import type { OpampClient } from './opamp/client.js';
import { loadOrCreateInstanceUid } from './opamp/instance-uid.js';
import type { OpampTransport } from './opamp/transport.js';
import { buildResource, type AgentResource } from './resource.js';

/** What the metrics pipeline gets to start with; it shares the agent's identity and process table. */
export interface TelemetryContext {
  resource: AgentResource;
  processTable: ProcessTable;
  config: ConfigStore;
  log: Logger;
  /** The agent's state directory (instance uid, export spool). */
  stateDir: string;
}

export interface Telemetry {
  shutdown(): Promise<void>;
}

export type TelemetryStarter = (context: TelemetryContext) => Promise<Telemetry> | Telemetry;

export interface AgentOptions {
  env?: NodeJS.ProcessEnv;
  /** YAML config file (`--config`); hot-reloaded. */
  configPath?: string | undefined;
  /** Default: the logger LOG_LEVEL, LOG_DEBUG_SAMPLE and LOG_FILE describe, closed on stop. */
  log?: Logger;
  processTable?: ProcessTable;
  /** The desktop's window backend, if any. The agent closes it on stop. */
  windows?: WindowController | undefined;
  /** Starts OTLP telemetry; the agent shuts it down on stop. */
  telemetry?: TelemetryStarter | undefined;
  /** Replaces the WebSocket transport (tests). */
  transport?: OpampTransport;
  now?: () => number;
}

export interface RunningAgent {
  instanceUid: string;
  resource: AgentResource;
  config: ConfigStore;
  /** Undefined when no CYBERCORP_CONTROL_URL is set (telemetry only). */
  executor: CommandExecutor | undefined;
  /** Undefined when no CYBERCORP_CONTROL_URL is set (telemetry only). */
  client: OpampClient | undefined;
  /** The custom capabilities announced right now (none without a control URL). */
  customCapabilities(): string[];
  stop(): Promise<void>;
}

/** Composes config, identity, telemetry and (with a control URL) remote control, and starts them. */
export async function startAgent(options: AgentOptions = {}): Promise<RunningAgent> {
  const env = options.env ?? process.env;
  const environment = readEnvironment(env);
  const ownLogger = options.log ? undefined : await openLogger(logSettingsFromEnv(env));
  const root = options.log ?? ownLogger!.logger;
  const log = root.child({ component: 'agent' });
  const now = options.now ?? Date.now;
  const controlUrl =
    environment.controlUrl === undefined ? undefined : validateControlUrl(environment.controlUrl);
  const controlTls =
    controlUrl === undefined ? undefined : await resolveControlTls(controlUrl, environment);

  const config = await ConfigStore.open(options.configPath, root.child({ component: 'config' }));
  const stopStateDirWarning = config.onChange((next, previous) => {
    if (next.stateDir !== previous.stateDir)
      log.warn('stateDir changes take effect at the next start');
  });
  const stateDir = resolveStateDir(environment.stateDir, config.current().stateDir, env);
  const instanceUid = await loadOrCreateInstanceUid(stateDir);
  const resource = await buildResource({ instanceUid, env });
  const processTable = options.processTable ?? createProcessTable();
  const windows = options.windows;

  const telemetry = await options.telemetry?.({
    resource,
    processTable,
    config,
    log: root,
    stateDir,
  });

  let control: ControlPlane | undefined;
  if (controlUrl === undefined) {
    log.info('CYBERCORP_CONTROL_URL is not set: running telemetry only');
  } else {
    // Loaded on demand: a telemetry-only agent keeps the protocol schemas, the WebSocket
    // client and the executor out of its memory (see bench/agent-overhead).
    const { startControlPlane } = await import('./control-plane.js');
    control = await startControlPlane({
      controlUrl,
      controlTls,
      agentToken: environment.agentToken,
      instanceUid,
      attributes: resource.attributes,
      processTable,
      windows,
      config,
      log: root.child({ component: 'control' }),
      transport: options.transport,
      now,
    });
  }

  // Watch last, so a failed start leaves no watcher behind.
  config.watch();
  let stopping: Promise<void> | undefined;
  return {
    instanceUid,
    resource,
    config,
    executor: control?.executor,
    client: control?.client,
    customCapabilities: () => control?.customCapabilities() ?? [],
    stop: () => {
      stopping ??= (async () => {
        stopStateDirWarning();
        config.close();
        await control?.stop();
        await windows?.close();
        await telemetry?.shutdown();
        await ownLogger?.close();
      })();
      return stopping;
    },
  };
}
