import {
  CONTROL_CAPABILITY,
  encodeControlData,
  WINDOWS_CAPABILITY,
  type CustomMessage,
} from '@cybercorp/protocol';
import type { ConfigStore } from './config/config-store.js';
import type { AgentConfig } from './config/schema.js';
import { CommandExecutor, toWindowEvent } from './control/command-executor.js';
import { ProcessController } from './control/process-controller.js';
import type { ProcessTable } from './control/processes.js';
import { SafetyPolicy, type SafetySettings } from './control/safety-policy.js';
import type { WindowController } from './control/windows.js';
import type { Logger } from './logger.js';
import { OpampClient } from './opamp/client.js';
import type { OpampTransport } from './opamp/transport.js';
import { WebSocketTransport } from './opamp/websocket-transport.js';

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

export interface ControlPlaneOptions {
  controlUrl: URL;
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
      log.error('control command failed unexpectedly', { type: message.type, error });
    }
  };
  const client = new OpampClient({
    transport:
      options.transport ??
      new WebSocketTransport({ url: options.controlUrl.href, token: options.agentToken }),
    instanceUid: options.instanceUid,
    attributes: options.attributes,
    customCapabilities,
    onCustomMessage: (message) => void answer(message),
    log: log.child({ component: 'opamp' }),
  });

  const cleanups: Array<() => void> = [];
  // The window change feed runs only while window control is announced.
  let stopWindowFeed: (() => void) | undefined;
  const followWindowAvailability = async (): Promise<void> => {
    const changed = await refreshWindowAvailability();
    const announced = customCapabilities().includes(WINDOWS_CAPABILITY);
    if (announced && windows && !stopWindowFeed) {
      stopWindowFeed = windows.onChange((event) => {
        void client.sendCustomMessage(
          CONTROL_CAPABILITY,
          'window.event',
          encodeControlData(toWindowEvent(event, now())),
        );
      });
    } else if (!announced && stopWindowFeed) {
      stopWindowFeed();
      stopWindowFeed = undefined;
    }
    if (changed) await client.reportFullState();
  };
  cleanups.push(() => stopWindowFeed?.());
  await followWindowAvailability();
  if (windows) cleanups.push(client.onConnected(() => void followWindowAvailability()));
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
