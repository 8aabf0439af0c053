import type { WindowInfo } from '@cybercorp/protocol';
import type pg from 'pg';

export interface ProcessRow {
  time: Date;
  agentId: string;
  host: string | null;
  pid: number;
  name: string | null;
  owner: string | null;
  cpuUtilization: number | null;
  memoryBytes: number | null;
  /** The action taken on it (process.kill, …) when the row records that, else null. */
  actedOn: string | null;
}

const PROCESS_COLUMNS = `time, agent_id AS "agentId", host, pid, name, owner,
  cpu_utilization AS "cpuUtilization", memory_bytes AS "memoryBytes", acted_on AS "actedOn"`;

/** Look back at most this far for "what was running then" (a snapshot is taken every minute). */
const SNAPSHOT_LOOKBACK = '1 day';

/** The full window list an agent reported at `at`. */
export interface WindowSnapshot {
  at: Date;
  agentId: string;
  windows: readonly WindowInfo[];
}

/** The window list of the latest snapshot at a time, and when it was taken (null: none kept). */
export interface WindowsAt {
  snapshotAt: Date | null;
  windows: WindowInfo[];
}

/** A window as a snapshot held it, with the snapshot's time. */
interface WindowRow extends WindowInfo {
  time: Date;
}

/**
 * The row that keeps a snapshot of no windows (the last one closed), so that it answers "none"
 * rather than the list before it. No window has an empty id (WindowId).
 */
const NO_WINDOWS: WindowInfo = {
  id: '',
  title: '',
  pid: null,
  bounds: { x: 0, y: 0, width: 0, height: 0 },
  active: false,
  minimized: false,
  maximized: false,
};

/**
 * The time of agent $1's latest snapshot in `table` at or before $2 (null when none was kept
 * in the SNAPSHOT_LOOKBACK before), as the CTE `snapshot (taken)`.
 */
const latestSnapshot = (table: 'processes' | 'windows', condition = 'true') =>
  `snapshot AS (
     SELECT max(time) AS taken FROM ${table}
     WHERE agent_id = $1 AND ${condition} AND time <= $2
       AND time > $2::timestamptz - interval '${SNAPSHOT_LOOKBACK}'
   )`;

export class InventoryRepository {
  constructor(private readonly db: pg.Pool) {}

  async insertProcesses(rows: readonly ProcessRow[]): Promise<void> {
    if (rows.length === 0) return;
    const column = <T>(pick: (row: ProcessRow) => T) => rows.map(pick);
    await this.db.query(
      `INSERT INTO processes (time, agent_id, host, pid, name, owner, cpu_utilization,
                              memory_bytes, acted_on)
       SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::int[], $5::text[],
                            $6::text[], $7::float8[], $8::float8[], $9::text[])`,
      [
        column((r) => r.time),
        column((r) => r.agentId),
        column((r) => r.host),
        column((r) => r.pid),
        column((r) => r.name),
        column((r) => r.owner),
        column((r) => r.cpuUtilization),
        column((r) => r.memoryBytes),
        column((r) => r.actedOn),
      ],
    );
  }

  /**
   * Records an action on a process, described as the latest snapshot that held its pid
   * described it (or by pid alone when none did).
   */
  async insertActedOn(at: Date, agentId: string, pid: number, action: string): Promise<void> {
    await this.db.query(
      `INSERT INTO processes (time, agent_id, host, pid, name, owner, cpu_utilization,
                              memory_bytes, acted_on)
       SELECT $1, $2, last.host, $3, last.name, last.owner, last.cpu_utilization,
              last.memory_bytes, $4
       FROM (SELECT 1) AS always
       LEFT JOIN LATERAL (
         SELECT host, name, owner, cpu_utilization, memory_bytes FROM processes
         WHERE agent_id = $2 AND pid = $3 AND time <= $1 AND time > $1 - interval '${SNAPSHOT_LOOKBACK}'
         ORDER BY time DESC LIMIT 1
       ) AS last ON true`,
      [at, agentId, pid, action],
    );
  }

  /**
   * The processes of the latest snapshot at or before `at`, and the processes acted on from
   * that snapshot until `at`.
   */
  async processesAt(agentId: string, at: Date): Promise<ProcessRow[]> {
    const { rows } = await this.db.query<ProcessRow>(
      `WITH ${latestSnapshot('processes', 'acted_on IS NULL')}
       SELECT ${PROCESS_COLUMNS} FROM processes, snapshot
       WHERE agent_id = $1 AND (
         (acted_on IS NULL AND time = snapshot.taken)
         OR (acted_on IS NOT NULL AND time <= $2
             AND time >= coalesce(snapshot.taken, $2::timestamptz - interval '${SNAPSHOT_LOOKBACK}'))
       )
       ORDER BY time, pid`,
      [agentId, at],
    );
    return rows;
  }

  /**
   * The windows of the latest snapshot at or before `at`, by id (the agent's order is not
   * kept), and when it was taken (null when none was kept in the SNAPSHOT_LOOKBACK before).
   */
  async windowsAt(agentId: string, at: Date): Promise<WindowsAt> {
    const { rows } = await this.db.query<WindowRow>(
      `WITH ${latestSnapshot('windows')}
       SELECT time, window_id AS id, title, pid, bounds, active, minimized, maximized
       FROM windows, snapshot
       WHERE agent_id = $1 AND time = snapshot.taken
       ORDER BY window_id`,
      [agentId, at],
    );
    return {
      snapshotAt: rows[0]?.time ?? null,
      windows: rows
        .filter((row) => row.id !== NO_WINDOWS.id)
        .map(({ time: _snapshotTime, ...window }) => window),
    };
  }

  /** Writes the window lists of several snapshots (of any agents) in one statement. */
  async insertWindows(snapshots: readonly WindowSnapshot[]): Promise<void> {
    const rows = snapshots.flatMap(({ at, agentId, windows }) =>
      (windows.length > 0 ? windows : [NO_WINDOWS]).map((window) => ({ at, agentId, window })),
    );
    if (rows.length === 0) return;
    const column = <T>(pick: (row: (typeof rows)[number]) => T) => rows.map(pick);
    await this.db.query(
      `INSERT INTO windows (time, agent_id, window_id, title, pid, bounds, active, minimized, maximized)
       SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::int[],
                            $6::jsonb[], $7::bool[], $8::bool[], $9::bool[])`,
      [
        column((r) => r.at),
        column((r) => r.agentId),
        column((r) => r.window.id),
        column((r) => r.window.title),
        column((r) => r.window.pid),
        column((r) => JSON.stringify(r.window.bounds)),
        column((r) => r.window.active),
        column((r) => r.window.minimized),
        column((r) => r.window.maximized),
      ],
    );
  }
}
