import type { AgentConfig } from './schema.js';

/**
 * The config of an agent started without `--config`. Written out rather than derived from the
 * schema so that such an agent never loads the validator and the YAML parser
 * (bench/agent-overhead); defaults.test.ts checks it equals what the schema fills in.
 */
export const DEFAULT_CONFIG: AgentConfig = {
  control: { enabled: true, windows: { enabled: true } },
  protected: { names: [], users: [], pids: [], cgroups: [] },
  metrics: { topN: 10 },
};
