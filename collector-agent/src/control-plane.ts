import {
  CONTROL_CAPABILITY,
  encodeControlData,
  WINDOWS_CAPABILITY,
  WINDOWS_UNAVAILABLE_ATTRIBUTE,
  type CustomMessage,
} from '@cybercorp/protocol';
import type { ConfigStore } from './config/config-store.js';
import type { AgentConfig } from './config/schema.js';
import { CommandExecutor, toWindowEvent } from './control/command-executor.js';
import { ProcessController } from './control/process-controller.js';
import type { ProcessTable } from './control/processes.js';
import { SafetyPolicy, type SafetySettings } from './control/safety-policy.js';
import type { WindowChangeEvent, WindowController } from './control/windows.js';
import type { Logger } from './logger.js';
import { OpampClient } from './opamp/client.js';
import type { OpampTransport } from './opamp/transport.js';
import { WebSocketTransport, type ControlTls } from './opamp/websocket-transport.js';

/**
 * `process.list` answers from a /proc scan at most this old, so bursts of list commands share
 * one scan. `process.get` and `process.signal` always read the live process.
 */
export const PROCESS_LIST_MAX_AGE_MS = 250;

/** While window control is unavailable, how often to look again (a window manager may start). */
export const WINDOW_RECHECK_INTERVAL_MS = 30_000;

export function safetySettings(config: AgentConfig): SafetySettings {
  return {
    controlEnabled: config.control.enabled,
    protectedNames: config.protected.names,
    protectedUsers: config.protected.users,
    protectedPids: config.protected.pids,
    protectedCgroups: config.protected.cgroups,
  };
}

export interface ControlPlaneOptions {
  controlUrl: URL;
  /** CA and pins for a wss:// control URL. */
  controlTls?: ControlTls | undefined;
  agentToken: string | undefined;
  instanceUid: string;
  /** Flat resource attributes, sent in the OpAMP AgentDescription. */
  attributes: Record<string, string>;
  processTable: ProcessTable;
  windows: WindowController | undefined;
  config: ConfigStore;
  log: Logger;
  /** Replaces the WebSocket transport (tests). */
  transport?: OpampTransport | undefined;
  now: () => number;
}

export interface ControlPlane {
  executor: CommandExecutor;
  client: OpampClient;
  /** The custom capabilities announced right now. */
  customCapabilities(): string[];
  stop(): Promise<void>;
}

/**
 * Remote control: the safety policy, the command executor and the OpAMP connection that feeds
 * it. The agent loads this module only when a control URL is set, so a telemetry-only agent
 * never loads the protocol schemas, the WebSocket client or the executor.
 */
export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const { config, log, windows, now } = options;
  const policy = new SafetyPolicy(options.processTable, () => safetySettings(config.current()));
  const executor = new CommandExecutor({
    table: options.processTable,
    policy,
    processes: new ProcessController(),
    windows,
    windowsEnabled: () => config.current().control.windows.enabled,
    now,
    processListMaxAgeMs: PROCESS_LIST_MAX_AGE_MS,
  });

  let windowsAvailable = false;
  /** Why window control is not offered; sent to the server so its 409 can say why. */
  let windowsUnavailableReason: string | undefined;
  const refreshWindowAvailability = async (): Promise<boolean> => {
    const before = [windowsAvailable, windowsUnavailableReason].join();
    try {
      // Window control switched off locally: do not even open the display.
      const enabled = config.current().control.windows.enabled;
      const availability =
        windows && enabled
          ? await windows.availability()
          : {
              available: false as const,
              reason: windows
                ? 'window control is switched off in the agent configuration'
                : 'no window controller on this platform',
            };
      windowsAvailable = availability.available;
      windowsUnavailableReason = availability.available ? undefined : availability.reason;
    } catch (error) {
      windowsAvailable = false;
      windowsUnavailableReason = `window availability check failed: ${String(error)}`;
    }
    const changed = [windowsAvailable, windowsUnavailableReason].join() !== before;
    if (changed && windowsUnavailableReason) {
      log.info('window control not offered', { reason: windowsUnavailableReason });
    }
    return changed;
  };
  const customCapabilities = (): string[] => {
    const current = config.current();
    if (!current.control.enabled) return [];
    const announceWindows = windowsAvailable && current.control.windows.enabled;
    return announceWindows ? [CONTROL_CAPABILITY, WINDOWS_CAPABILITY] : [CONTROL_CAPABILITY];
  };

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
      await client.sendCustomMessage(CONTROL_CAPABILITY, 'result', encodeControlData(result));
    } catch (error) {
      log.error('control command failed unexpectedly', { type: message.type, err: error });
    }
  };
  const opampLog = log.child({ component: 'opamp' });
  const client = new OpampClient({
    transport:
      options.transport ??
      new WebSocketTransport({
        url: options.controlUrl.href,
        token: options.agentToken,
        tls: options.controlTls,
        log: opampLog,
      }),
    instanceUid: options.instanceUid,
    attributes: options.attributes,
    dynamicAttributes: (): Record<string, string> =>
      windowsUnavailableReason ? { [WINDOWS_UNAVAILABLE_ATTRIBUTE]: windowsUnavailableReason } : {},
    customCapabilities,
    onCustomMessage: (message) => void answer(message),
    log: opampLog,
  });

  const cleanups: Array<() => void> = [];
  // The window change feed runs only while window control is announced.
  let stopWindowFeed: (() => void) | undefined;
  const sendWindowEvent = (event: WindowChangeEvent) =>
    client.sendCustomMessage(
      CONTROL_CAPABILITY,
      'window.event',
      encodeControlData(toWindowEvent(event, now())),
    );
  const followWindowAvailability = async (connected = false): Promise<void> => {
    const changed = await refreshWindowAvailability();
    const announced = customCapabilities().includes(WINDOWS_CAPABILITY);
    if (announced && windows && !stopWindowFeed) {
      stopWindowFeed = windows.onChange((event) => void sendWindowEvent(event));
    } else if (announced && windows && connected) {
      // Events sent while the connection was down are lost, and the server keeps its window
      // state per connection: start every connection with the full list.
      await sendWindowEvent({ change: 'snapshot', windows: await windows.list() }).catch(
        (error: unknown) => log.warn('could not send the window snapshot', { err: error }),
      );
    } else if (!announced && stopWindowFeed) {
      stopWindowFeed();
      stopWindowFeed = undefined;
    }
    if (changed) await client.reportFullState();
  };
  cleanups.push(() => stopWindowFeed?.());
  await followWindowAvailability();
  if (windows) {
    cleanups.push(client.onConnected(() => void followWindowAvailability(true)));
    const recheck = setInterval(() => {
      if (!windowsAvailable) void followWindowAvailability();
    }, WINDOW_RECHECK_INTERVAL_MS);
    recheck.unref();
    cleanups.push(() => clearInterval(recheck));
  }
  cleanups.push(
    config.onChange((next, previous) => {
      const before = JSON.stringify([previous.control, previous.protected]);
      if (JSON.stringify([next.control, next.protected]) !== before) {
        log.info('safety settings changed', {
          controlEnabled: next.control.enabled,
          windowsEnabled: next.control.windows.enabled,
        });
        void followWindowAvailability().then(() => client.reportFullState());
      }
    }),
  );
  client.start();

  return {
    executor,
    client,
    customCapabilities,
    stop: async () => {
      for (const cleanup of cleanups) cleanup();
      await client.stop();
    },
  };
}
