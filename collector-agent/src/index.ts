export {
  startAgent,
  type AgentOptions,
  type RunningAgent,
  type Telemetry,
  type TelemetryContext,
  type TelemetryStarter,
} from './agent.js';
export {
  startControlPlane,
  safetySettings,
  PROCESS_LIST_MAX_AGE_MS,
  type ControlPlane,
  type ControlPlaneOptions,
} from './control-plane.js';
export { ConfigStore, loadConfigFile } from './config/config-store.js';
export { AgentConfigSchema, validateConfig, type AgentConfig } from './config/schema.js';
export { ConfigError } from './config/config-error.js';
export { DEFAULT_CONFIG } from './config/defaults.js';
export {
  AGENT_ENVIRONMENT_VARIABLES,
  readEnvironment,
  resolveStateDir,
  type AgentEnvironment,
} from './config/env.js';
export {
  buildResource,
  parseResourceAttributes,
  SERVICE_NAME,
  type AgentResource,
  type ResourceOptions,
} from './resource.js';
export { createLogger, silentLogger, type Logger, type LogLevel } from './logger.js';
export { createProcessTable } from './control/process-table.js';
export { LinuxProcessTable, type LinuxProcessTableOptions } from './control/processes.linux.js';
export { DarwinProcessTable } from './control/processes.darwin.js';
export { Win32ProcessTable } from './control/processes.win32.js';
export type { ProcessSample, ProcessTable } from './control/processes.js';
export { ProcessController } from './control/process-controller.js';
export { SafetyPolicy, type PolicyDecision, type SafetySettings } from './control/safety-policy.js';
export { CommandExecutor, type CommandExecutorOptions } from './control/command-executor.js';
export { ControlError } from './control/control-error.js';
export { createWindowController, type WindowControllerOptions } from './control/windows.factory.js';
export {
  WindowControlError,
  type WindowAvailability,
  type WindowChangeEvent,
  type WindowController,
} from './control/windows.js';
export { OpampClient, AGENT_CAPABILITIES, type OpampClientOptions } from './opamp/client.js';
export {
  WebSocketTransport,
  type ControlTls,
  type WebSocketTransportOptions,
} from './opamp/websocket-transport.js';
export {
  parseSpkiPins,
  spkiPin,
  chainPins,
  PinMismatchError,
  PIN_VARIABLE,
} from './opamp/spki-pins.js';
export { resolveControlTls, isLoopbackHost } from './config/control-tls.js';
export type {
  OpampTransport,
  TransportConnection,
  TransportHandlers,
  TransportClose,
} from './opamp/transport.js';
export { loadOrCreateInstanceUid } from './opamp/instance-uid.js';
