import { z } from 'zod';
import { ConfigError } from './config-error.js';

/**
 * The agent's local YAML config. Strict objects: a misspelt key in a safety setting must be an
 * error, not a silently ignored line.
 */
export const AgentConfigSchema = z.strictObject({
  control: z
    .strictObject({
      /** Remote control on/off. Off: every action is refused with `control_disabled`. */
      enabled: z.boolean().default(true),
      windows: z.strictObject({ enabled: z.boolean().default(true) }).default({ enabled: true }),
    })
    .default({ enabled: true, windows: { enabled: true } }),
  protected: z
    .strictObject({
      /** Process names (comm or executable base name) that are never signalled. */
      names: z.array(z.string().min(1)).default([]),
      /** User names whose processes are never signalled. */
      users: z.array(z.string().min(1)).default([]),
      /** Pids that are never signalled. */
      pids: z.array(z.number().int().positive()).default([]),
      /**
       * cgroups (paths as in /proc/<pid>/cgroup, e.g. `system.slice/sshd.service`) whose
       * processes, and those of their sub-cgroups, are never signalled. Linux only.
       */
      cgroups: z.array(z.string().regex(/[^/]/, 'must name a cgroup below the root')).default([]),
    })
    .default({ names: [], users: [], pids: [], cgroups: [] }),
  /** Where the persisted instance uid lives; read at start only. */
  stateDir: z.string().min(1).optional(),
  metrics: z
    .strictObject({ topN: z.number().int().min(0).max(1000).default(10) })
    .default({ topN: 10 }),
});

export type AgentConfig = z.infer<typeof AgentConfigSchema>;

/** Validates a parsed YAML document; an empty file means all defaults. */
export function validateConfig(document: unknown): AgentConfig {
  const parsed = AgentConfigSchema.safeParse(document ?? {});
  if (!parsed.success) throw new ConfigError(z.prettifyError(parsed.error));
  return parsed.data;
}
