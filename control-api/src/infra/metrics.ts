import type pg from 'pg';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface AgentPresenceSample {
  agentId: string;
  hostName: string;
  online: boolean;
}

/**
 * The API's own metrics on a registry owned by this instance (never prom-client's global one),
 * so several in-process instances do not mix their numbers. Prometheus alert rules depend on
 * these exact names and labels.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly opampConnections: Gauge<'transport'>;
  readonly opampConnects: Counter;
  readonly opampDisconnects: Counter<'reason'>;
  readonly opampRefusedConnections: Counter<'reason'>;
  readonly opampRejectedMessages: Counter<'reason'>;
  readonly opampUnknownResults: Counter;
  readonly opampIdentityConflicts: Counter<'reason'>;
  readonly agentsOnline: Gauge;
  readonly agentUp: Gauge<'agent_id' | 'host_name'>;
  readonly commands: Counter<'type' | 'outcome'>;
  readonly commandDuration: Histogram<'type'>;
  readonly loginPasswordChecks: Counter<'outcome'>;
  readonly rateLimited: Counter<'limit'>;

  constructor(sources: {
    pool: pg.Pool;
    connectionCounts: () => Record<'websocket' | 'http', number>;
    /** undefined when presence cannot be read: the agent series are then left out. */
    agentPresence: () => Promise<AgentPresenceSample[] | undefined>;
  }) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'cybercorp_process_' });
    this.httpRequests = new Counter({
      name: 'cybercorp_http_requests_total',
      help: 'HTTP requests answered, by Express route pattern',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'cybercorp_http_request_duration_seconds',
      help: 'HTTP request duration, by Express route pattern',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.opampConnections = new Gauge({
      name: 'cybercorp_opamp_connections',
      help: 'OpAMP agents currently connected to this instance',
      labelNames: ['transport'],
      registers,
      collect() {
        const counts = sources.connectionCounts();
        this.set({ transport: 'websocket' }, counts.websocket);
        this.set({ transport: 'http' }, counts.http);
      },
    });
    this.opampConnects = new Counter({
      name: 'cybercorp_opamp_connects_total',
      help: 'OpAMP connections accepted',
      registers,
    });
    this.opampDisconnects = new Counter({
      name: 'cybercorp_opamp_disconnects_total',
      help: 'OpAMP connections ended, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.opampRefusedConnections = new Counter({
      name: 'cybercorp_opamp_refused_connections_total',
      help: 'OpAMP WebSocket upgrades refused because the instance was full, by cap',
      labelNames: ['reason'],
      registers,
    });
    this.opampRejectedMessages = new Counter({
      name: 'cybercorp_opamp_rejected_messages_total',
      help: 'OpAMP messages not processed: malformed, or over the per-connection rate limit',
      labelNames: ['reason'],
      registers,
    });
    this.opampUnknownResults = new Counter({
      name: 'cybercorp_opamp_unknown_results_total',
      help: 'Command results from agents that no command was waiting for (late or unknown)',
      registers,
    });
    this.opampIdentityConflicts = new Counter({
      name: 'cybercorp_opamp_identity_conflicts_total',
      help: "OpAMP agents refused: uid_claimed (the instance uid is another token's), agent_limit (over the token's maxAgents)",
      labelNames: ['reason'],
      registers,
    });
    for (const reason of ['uid_claimed', 'agent_limit'])
      this.opampIdentityConflicts.inc({ reason }, 0);
    // Both presence gauges are collected concurrently on a scrape; they share one lookup.
    let inFlight: Promise<AgentPresenceSample[] | undefined> | undefined;
    const samplePresence = () =>
      (inFlight ??= sources.agentPresence().finally(() => {
        inFlight = undefined;
      }));
    this.agentUp = new Gauge({
      name: 'cybercorp_agent_up',
      help: 'Known agents: 1 online, 0 offline',
      labelNames: ['agent_id', 'host_name'],
      registers,
      async collect() {
        const samples = await samplePresence();
        this.reset();
        for (const s of samples ?? []) {
          this.set({ agent_id: s.agentId, host_name: s.hostName }, s.online ? 1 : 0);
        }
      },
    });
    this.agentsOnline = new Gauge({
      name: 'cybercorp_agents_online',
      help: 'Agents currently online (any instance)',
      registers,
      async collect() {
        const samples = await samplePresence();
        if (samples) this.set(samples.filter((s) => s.online).length);
        else this.reset();
      },
    });
    this.commands = new Counter({
      name: 'cybercorp_commands_total',
      help: 'Control commands relayed to agents, by type and outcome',
      labelNames: ['type', 'outcome'],
      registers,
    });
    this.commandDuration = new Histogram({
      name: 'cybercorp_command_duration_seconds',
      help: 'Time from sending a control command to its outcome',
      labelNames: ['type'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.loginPasswordChecks = new Counter({
      name: 'cybercorp_login_password_checks_total',
      help: 'Passwords verified by login (the slow argon2 check), by outcome',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of ['accepted', 'rejected']) this.loginPasswordChecks.inc({ outcome }, 0);
    this.rateLimited = new Counter({
      name: 'cybercorp_rate_limited_total',
      help: 'Requests refused with 429, by the limit that refused them',
      labelNames: ['limit'],
      registers,
    });
    const pool = sources.pool;
    new Gauge({
      name: 'cybercorp_db_pool_connections_in_use',
      help: 'Database connections checked out of the pool',
      registers,
      collect() {
        this.set(pool.totalCount - pool.idleCount);
      },
    });
    new Gauge({
      name: 'cybercorp_db_pool_connections_idle',
      help: 'Idle database connections in the pool',
      registers,
      collect() {
        this.set(pool.idleCount);
      },
    });
    new Gauge({
      name: 'cybercorp_db_pool_waiting_clients',
      help: 'Queries waiting for a database connection',
      registers,
      collect() {
        this.set(pool.waitingCount);
      },
    });
    new Gauge({
      name: 'cybercorp_db_pool_max_connections',
      help: 'Configured size of the database pool',
      registers,
      collect() {
        this.set(pool.options.max ?? 10);
      },
    });
  }
}
