import type { WindowEvent } from '@cybercorp/protocol';
import { BatchWriter } from '../infra/batch-writer.js';
import type { Clock } from '../infra/clock.js';
import { isDatabaseUnavailable } from '../infra/database-errors.js';
import type { Logger } from '../infra/logger.js';
import type { MetricPoint } from '../ingest/metric-batch.js';
import type {
  InventoryRepository,
  ProcessRow,
  WindowSnapshot,
  WindowsAt,
} from '../repositories/inventory.js';

/** The process metrics the agent exports for its top processes (OTel semantic conventions). */
const PROCESS_CPU_UTILIZATION = 'process.cpu.utilization';
const PROCESS_MEMORY_USAGE = 'process.memory.usage';
const ATTR_PID = 'process.pid';
const ATTR_EXECUTABLE = 'process.executable.name';
const ATTR_OWNER = 'process.owner';

export const isProcessMetric = (name: string) => name.startsWith('process.');

/**
 * The inventory history: what ran and what was open on each host. Processes come from the
 * per-process metrics the agent exports (its top N by CPU and by memory) as they pass the OTLP
 * ingest, plus every process acted on through the API; windows from the agents' window events.
 * A process snapshot is kept every INVENTORY_INTERVAL per agent, and sooner when a process
 * shows up that the last snapshot did not hold. Writes never fail the request that carried the
 * data: a lost snapshot is logged. Window lists are group-committed and not waited for by the
 * OpAMP message that brought them, like presence events.
 */
export class Inventory {
  private readonly lastSnapshot = new Map<string, { atMs: number; pids: Set<number> }>();
  private readonly windowWrites: BatchWriter<WindowSnapshot, undefined>;
  /** The time given to each agent's latest window list, while one may still be that recent. */
  private readonly lastWindowsAtMs = new Map<string, number>();
  private latestWindowsAtMs = 0;

  constructor(
    private readonly repository: InventoryRepository,
    private readonly intervalSeconds: number,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    // A list the database refuses (a NUL in a title) must not cost the other agents in its
    // batch theirs.
    this.windowWrites = new BatchWriter(
      async (snapshots) => {
        await this.repository.insertWindows(snapshots);
        return snapshots.map(() => undefined);
      },
      { alone: (error) => !isDatabaseUnavailable(error) },
    );
  }

  /** Keeps the process snapshots held in one export's process.* points. */
  async observeProcessPoints(points: readonly MetricPoint[]): Promise<void> {
    const kept = new Map<string, { atMs: number; pids: Set<number> }>();
    const rows: ProcessRow[] = [];
    for (const [agentId, snapshot] of latestSnapshots(points)) {
      const last = this.lastSnapshot.get(agentId);
      const pids = new Set(snapshot.rows.map((row) => row.pid));
      const due =
        !last ||
        (snapshot.atMs > last.atMs &&
          (snapshot.atMs - last.atMs >= this.intervalSeconds * 1000 ||
            [...pids].some((pid) => !last.pids.has(pid))));
      if (!due) continue;
      kept.set(agentId, { atMs: snapshot.atMs, pids });
      rows.push(...snapshot.rows);
    }
    // Remembered once written, so an export retried after a failed write is kept then.
    await this.repository.insertProcesses(rows);
    for (const [agentId, snapshot] of kept) this.lastSnapshot.set(agentId, snapshot);
  }

  /** Records that `action` was taken on a process; never throws. */
  async actedOn(agentId: string, pid: number, action: string): Promise<void> {
    try {
      await this.repository.insertActedOn(new Date(this.clock.now()), agentId, pid, action);
    } catch (error) {
      this.logger.warn('an acted-on process was not kept in the inventory', {
        agentId,
        pid,
        err: error,
      });
    }
  }

  /** Keeps the full window list each window event carries, as of now; never throws. */
  observeWindows(agentId: string, event: WindowEvent): void {
    // A snapshot is the rows of one time: a second list within the same millisecond (events
    // come in bursts, `added` then `active`) is kept a millisecond on, not mixed into the first.
    const now = this.clock.now();
    // Once the clock has passed every time given out, no entry can push a list on: forgetting
    // them all keeps the map to the agents of the current millisecond, not every agent seen.
    if (now > this.latestWindowsAtMs) this.lastWindowsAtMs.clear();
    const atMs = Math.max(now, (this.lastWindowsAtMs.get(agentId) ?? 0) + 1);
    this.lastWindowsAtMs.set(agentId, atMs);
    this.latestWindowsAtMs = Math.max(this.latestWindowsAtMs, atMs);
    const snapshot = { at: new Date(atMs), agentId, windows: event.windows };
    this.windowWrites.add(snapshot).catch((error: unknown) => this.windowsLost(agentId, error));
  }

  /** Settles once every window snapshot observed so far is written (or failed). */
  written(): Promise<void> {
    return this.windowWrites.idle();
  }

  private windowsLost(agentId: string, error: unknown): void {
    this.logger.warn('a window snapshot was not kept in the inventory', { agentId, err: error });
  }

  processesAt(agentId: string, at: Date): Promise<ProcessRow[]> {
    return this.repository.processesAt(agentId, at);
  }

  windowsAt(agentId: string, at: Date): Promise<WindowsAt> {
    return this.repository.windowsAt(agentId, at);
  }
}

/** Per agent, the processes of the newest instant the points describe. */
function latestSnapshots(
  points: readonly MetricPoint[],
): Map<string, { atMs: number; rows: ProcessRow[] }> {
  const byAgent = new Map<string, { atMs: number; byPid: Map<number, ProcessRow> }>();
  for (const point of points) {
    const agentId = point.resource['service.instance.id'];
    const pid = point.attributes[ATTR_PID];
    if (typeof agentId !== 'string' || typeof pid !== 'number') continue;
    const atMs = Number(point.timeUnixNano / 1_000_000n);
    let snapshot = byAgent.get(agentId);
    if (!snapshot || atMs > snapshot.atMs) {
      snapshot = { atMs, byPid: new Map() };
      byAgent.set(agentId, snapshot);
    } else if (atMs < snapshot.atMs) continue;
    let row = snapshot.byPid.get(pid);
    if (!row) {
      const host = point.resource['host.name'];
      const name = point.attributes[ATTR_EXECUTABLE];
      const owner = point.attributes[ATTR_OWNER];
      row = {
        time: new Date(atMs),
        agentId,
        host: typeof host === 'string' ? host : null,
        pid,
        name: typeof name === 'string' ? name : null,
        owner: typeof owner === 'string' ? owner : null,
        cpuUtilization: null,
        memoryBytes: null,
        actedOn: null,
      };
      snapshot.byPid.set(pid, row);
    }
    // CPU utilization may be split by mode; the process's share is their sum.
    if (point.name === PROCESS_CPU_UTILIZATION) {
      row.cpuUtilization = (row.cpuUtilization ?? 0) + point.value;
    } else if (point.name === PROCESS_MEMORY_USAGE) row.memoryBytes = point.value;
  }
  return new Map(
    [...byAgent].map(([agentId, s]) => [agentId, { atMs: s.atMs, rows: [...s.byPid.values()] }]),
  );
}
