import type { AuthService } from '../services/auth-service.js';
import type { AgentDirectory } from '../services/agent-directory.js';
import type { AgentTokenService } from '../services/agent-token-service.js';
import type { AuditService } from '../services/audit-service.js';
import type { CommandRelay } from '../services/command-relay.js';
import type { EventService } from '../services/event-service.js';
import type { Inventory } from '../services/inventory.js';
import type { MetricHistory } from '../services/metric-history.js';
import type { ServiceTokenService } from '../services/service-token-service.js';
import type { UserService } from '../services/user-service.js';
import type { WindowSnapshots } from '../services/window-snapshots.js';

/** Everything the REST routes call into. */
export interface RouteServices {
  auth: AuthService;
  users: UserService;
  agentTokens: AgentTokenService;
  serviceTokens: ServiceTokenService;
  agents: AgentDirectory;
  relay: CommandRelay;
  windows: WindowSnapshots;
  audit: AuditService;
  history: MetricHistory;
  inventory: Inventory;
  events: EventService;
}
