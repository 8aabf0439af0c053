/*
 * Semantic-convention names the agent emits. Incubating names are copied here instead of imported
 * from `@opentelemetry/semantic-conventions/incubating`, as that entry point may rename them in a
 * minor release; a rename must be a deliberate change here, because dashboards and alert rules
 * key on the Prometheus names derived from these.
 *
 * Where the brief that defines our dashboards names an older attribute, that one is kept
 * (`system.device`, `process.status`); semconv 1.45 calls them `system.device.name` and
 * `process.state`.
 */

export const METER_NAME = '@cybercorp/collector-agent';

// Metric names.
export const METRIC_SYSTEM_CPU_TIME = 'system.cpu.time';
export const METRIC_SYSTEM_CPU_UTILIZATION = 'system.cpu.utilization';
export const METRIC_SYSTEM_CPU_LOAD_AVERAGE_1M = 'system.cpu.load_average.1m';
export const METRIC_SYSTEM_CPU_LOAD_AVERAGE_5M = 'system.cpu.load_average.5m';
export const METRIC_SYSTEM_CPU_LOAD_AVERAGE_15M = 'system.cpu.load_average.15m';
export const METRIC_SYSTEM_MEMORY_USAGE = 'system.memory.usage';
export const METRIC_SYSTEM_MEMORY_UTILIZATION = 'system.memory.utilization';
export const METRIC_SYSTEM_MEMORY_LIMIT = 'system.memory.limit';
export const METRIC_SYSTEM_NETWORK_IO = 'system.network.io';
export const METRIC_SYSTEM_NETWORK_ERRORS = 'system.network.errors';
export const METRIC_SYSTEM_NETWORK_DROPPED = 'system.network.dropped';
export const METRIC_SYSTEM_FILESYSTEM_USAGE = 'system.filesystem.usage';
export const METRIC_SYSTEM_FILESYSTEM_UTILIZATION = 'system.filesystem.utilization';
export const METRIC_SYSTEM_DISK_IO = 'system.disk.io';
export const METRIC_SYSTEM_DISK_OPERATIONS = 'system.disk.operations';
export const METRIC_SYSTEM_DISK_IO_TIME = 'system.disk.io_time';
export const METRIC_SYSTEM_PROCESS_COUNT = 'system.process.count';
export const METRIC_SYSTEM_UPTIME = 'system.uptime';
export const METRIC_PROCESS_CPU_TIME = 'process.cpu.time';
export const METRIC_PROCESS_CPU_UTILIZATION = 'process.cpu.utilization';
export const METRIC_PROCESS_MEMORY_USAGE = 'process.memory.usage';
// The agent's own telemetry (not semconv): its offline export buffer.
export const METRIC_AGENT_EXPORT_BUFFER_SIZE = 'cybercorp.agent.export.buffer.size';
export const METRIC_AGENT_EXPORT_BUFFER_LIMIT = 'cybercorp.agent.export.buffer.limit';
export const METRIC_AGENT_EXPORT_BUFFER_INTERVALS = 'cybercorp.agent.export.buffer.intervals';
export const METRIC_AGENT_EXPORT_BUFFER_DROPPED = 'cybercorp.agent.export.buffer.dropped';

// Units (UCUM, as semconv writes them). The Collector's Prometheus translation turns "By" into
// `_bytes`, "s" into `_seconds`, "1" on a gauge into `_ratio`, and drops `{annotations}`.
export const UNIT_BYTES = 'By';
export const UNIT_SECONDS = 's';
export const UNIT_RATIO = '1';
export const UNIT_PROCESSES = '{process}';
export const UNIT_PACKETS = '{packet}';
export const UNIT_ERRORS = '{error}';
export const UNIT_OPERATIONS = '{operation}';
/** Load is a count of runnable threads averaged over time; the annotation keeps the name bare. */
export const UNIT_THREADS = '{thread}';
/** One export interval's batch. */
export const UNIT_INTERVALS = '{interval}';

// Attribute names.
export const ATTR_CPU_MODE = 'cpu.mode';
export const ATTR_CPU_LOGICAL_NUMBER = 'cpu.logical_number';
export const ATTR_SYSTEM_MEMORY_STATE = 'system.memory.state';
export const ATTR_NETWORK_INTERFACE_NAME = 'network.interface.name';
export const ATTR_NETWORK_IO_DIRECTION = 'network.io.direction';
export const ATTR_SYSTEM_DEVICE = 'system.device';
export const ATTR_SYSTEM_FILESYSTEM_MOUNTPOINT = 'system.filesystem.mountpoint';
export const ATTR_SYSTEM_FILESYSTEM_TYPE = 'system.filesystem.type';
export const ATTR_SYSTEM_FILESYSTEM_MODE = 'system.filesystem.mode';
export const ATTR_SYSTEM_FILESYSTEM_STATE = 'system.filesystem.state';
export const ATTR_DISK_IO_DIRECTION = 'disk.io.direction';
export const ATTR_PROCESS_STATUS = 'process.status';
export const ATTR_PROCESS_PID = 'process.pid';
export const ATTR_PROCESS_EXECUTABLE_NAME = 'process.executable.name';
export const ATTR_PROCESS_OWNER = 'process.owner';
export const ATTR_SERVICE_INSTANCE_ID = 'service.instance.id';
/** Why the buffer dropped an interval: buffer_full, rejected, spool_error. */
export const ATTR_DROP_REASON = 'reason';

// Attribute values.
export const CPU_MODES = [
  'user',
  'nice',
  'system',
  'idle',
  'iowait',
  'interrupt',
  'steal',
] as const;
export type CpuMode = (typeof CPU_MODES)[number];
export const MEMORY_STATES = ['used', 'free', 'buffers', 'cached'] as const;
export type MemoryState = (typeof MEMORY_STATES)[number];
export const FILESYSTEM_STATES = ['used', 'free', 'reserved'] as const;
export type FilesystemState = (typeof FILESYSTEM_STATES)[number];
export const DIRECTION_RECEIVE = 'receive';
export const DIRECTION_TRANSMIT = 'transmit';
export const DIRECTION_READ = 'read';
export const DIRECTION_WRITE = 'write';
export const PROCESS_STATUSES = ['running', 'sleeping', 'stopped', 'defunct', 'unknown'] as const;
export type ProcessStatus = (typeof PROCESS_STATUSES)[number];
