import {
  CONTROL_CAPABILITY,
  encodeControlData,
  WINDOWS_CAPABILITY,
  type CustomMessage,
} from '@cybercorp/protocol';
import { ConfigStore } from './config/config-store.js';
import { readEnvironment, resolveStateDir, validateControlUrl } from './config/env.js';
import type { AgentConfig } from './config/schema.js';
import { CommandExecutor, toWindowEvent } from './control/command-executor.js';
import { ProcessController } from './control/process-controller.js';
import { createProcessTable } from './control/process-table.js';
import type { ProcessTable } from './control/processes.js';
import { SafetyPolicy, type SafetySettings } from './control/safety-policy.js';
import type { WindowController } from './control/windows.js';
import { createLogger, parseLogLevel, type Logger } from './logger.js';
import { OpampClient } from './opamp/client.js';
import { loadOrCreateInstanceUid } from './opamp/instance-uid.js';
import type { OpampTransport } from './opamp/transport.js';
import { WebSocketTransport } from './opamp/websocket-transport.js';
import { buildResource, type AgentResource } from './resource.js';

/** What the metrics pipeline gets to start with; it shares the agent's identity and process table. */
export interface TelemetryContext {
  resource: AgentResource;
  processTable: ProcessTable;
  config: ConfigStore;
  log: Logger;
}

export interface Telemetry {
  shutdown(): Promise<void>;
}

export type TelemetryStarter = (context: TelemetryContext) => Promise<Telemetry> | Telemetry;

export interface AgentOptions {
  env?: NodeJS.ProcessEnv;
  /** YAML config file (`--config`); hot-reloaded. */
  configPath?: string | undefined;
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
  executor: CommandExecutor;
  /** Undefined when no CYBERCORP_CONTROL_URL is set (telemetry only). */
  client: OpampClient | undefined;
  /** The custom capabilities announced right now. */
  customCapabilities(): string[];
  stop(): Promise<void>;
}

/**
 * `process.list` answers from a /proc scan at most this old, so bursts of list commands share
 * one scan. `process.get` and `process.signal` always read the live process.
 */
export const PROCESS_LIST_MAX_AGE_MS = 250;

export function safetySettings(config: AgentConfig): SafetySettings {
  return {
    controlEnabled: config.control.enabled,
    protectedNames: config.protected.names,
    protectedUsers: config.protected.users,
  };
}

/** Composes config, identity, process control and the OpAMP connection, and starts them. */
export async function startAgent(options: AgentOptions = {}): Promise<RunningAgent> {
  const env = options.env ?? process.env;
  const environment = readEnvironment(env);
  const log = options.log ?? createLogger(parseLogLevel(environment.logLevel));
  const now = options.now ?? Date.now;
  const controlUrl =
    environment.controlUrl === undefined ? undefined : validateControlUrl(environment.controlUrl);

  const config = await ConfigStore.open(options.configPath, log);
  const stopStateDirWarning = config.onChange((next, previous) => {
    if (next.stateDir !== previous.stateDir)
      log.warn('stateDir changes take effect at the next start');
  });
  const stateDir = resolveStateDir(environment.stateDir, config.current().stateDir, env);
  const instanceUid = await loadOrCreateInstanceUid(stateDir);
  const resource = await buildResource({ instanceUid, env });
  const processTable = options.processTable ?? createProcessTable();
  const windows = options.windows;

  const policy = new SafetyPolicy(processTable, () => safetySettings(config.current()));
  const executor = new CommandExecutor({
    table: processTable,
    policy,
    processes: new ProcessController(),
    windows,
    windowsEnabled: () => config.current().control.windows.enabled,
    now,
    processListMaxAgeMs: PROCESS_LIST_MAX_AGE_MS,
  });

  const telemetry = await options.telemetry?.({ resource, processTable, config, log });

  let windowsAvailable = false;
  const refreshWindowAvailability = async (): Promise<boolean> => {
    const before = windowsAvailable;
    try {
      // Window control switched off locally: do not even open the display.
      const wanted = windows !== undefined && config.current().control.windows.enabled;
      const availability = wanted ? await windows.availability() : undefined;
      windowsAvailable = availability?.available === true;
      if (availability && !availability.available && before) {
        log.warn('window control became unavailable', { reason: availability.reason });
      }
    } catch (error) {
      windowsAvailable = false;
      log.warn('window availability check failed', { error });
    }
    return windowsAvailable !== before;
  };
  const customCapabilities = (): string[] => {
    const current = config.current();
    if (!current.control.enabled) return [];
    const announceWindows = windowsAvailable && current.control.windows.enabled;
    return announceWindows ? [CONTROL_CAPABILITY, WINDOWS_CAPABILITY] : [CONTROL_CAPABILITY];
  };

  let client: OpampClient | undefined;
  const cleanups: Array<() => void> = [];
  if (controlUrl === undefined) {
    log.info('CYBERCORP_CONTROL_URL is not set: running telemetry only');
  } else {
    const answer = async (message: CustomMessage): Promise<void> => {
      if (message.capability !== CONTROL_CAPABILITY) {
        log.debug('ignoring a custom message of another capability', {
          capability: message.capability,
        });
        return;
      }
      try {
        const result = await executor.handle(message.data, log);
        if (!result) return;
        log.debug('control command answered', {
          commandId: result.commandId,
          type: message.type,
          ok: result.ok,
          ...(result.ok ? {} : { code: result.error.code }),
        });
        await opamp.sendCustomMessage(CONTROL_CAPABILITY, 'result', encodeControlData(result));
      } catch (error) {
        log.error('control command failed unexpectedly', { type: message.type, error });
      }
    };
    const opamp = new OpampClient({
      transport:
        options.transport ??
        new WebSocketTransport({ url: controlUrl.href, token: environment.agentToken }),
      instanceUid,
      attributes: resource.attributes,
      customCapabilities,
      onCustomMessage: (message) => void answer(message),
      log: log.child({ component: 'opamp' }),
    });
    client = opamp;

    // The window change feed runs only while window control is announced.
    let stopWindowFeed: (() => void) | undefined;
    const followWindowAvailability = async (): Promise<void> => {
      const changed = await refreshWindowAvailability();
      const announced = customCapabilities().includes(WINDOWS_CAPABILITY);
      if (announced && windows && !stopWindowFeed) {
        stopWindowFeed = windows.onChange((event) => {
          void opamp.sendCustomMessage(
            CONTROL_CAPABILITY,
            'window.event',
            encodeControlData(toWindowEvent(event, now())),
          );
        });
      } else if (!announced && stopWindowFeed) {
        stopWindowFeed();
        stopWindowFeed = undefined;
      }
      if (changed) await opamp.reportFullState();
    };
    cleanups.push(() => stopWindowFeed?.());
    await followWindowAvailability();
    if (windows) cleanups.push(opamp.onConnected(() => void followWindowAvailability()));
    cleanups.push(
      config.onChange((next, previous) => {
        const before = JSON.stringify([previous.control, previous.protected]);
        if (JSON.stringify([next.control, next.protected]) !== before) {
          log.info('safety settings changed', {
            controlEnabled: next.control.enabled,
            windowsEnabled: next.control.windows.enabled,
          });
          void followWindowAvailability().then(() => opamp.reportFullState());
        }
      }),
    );
    opamp.start();
  }

  // Watch last, so a failed start leaves no watcher behind.
  config.watch();
  let stopping: Promise<void> | undefined;
  return {
    instanceUid,
    resource,
    config,
    executor,
    client,
    customCapabilities,
    stop: () => {
      stopping ??= (async () => {
        stopStateDirWarning();
        for (const cleanup of cleanups) cleanup();
        config.close();
        await client?.stop();
        await windows?.close();
        await telemetry?.shutdown();
      })();
      return stopping;
    },
  };
}
