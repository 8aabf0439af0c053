import { join } from 'node:path';
import type { TelemetryContext } from '../agent.js';
import { SPOOL_DIRECTORY_NAME } from './batch-spool.js';
import {
  startTelemetry as startPipeline,
  type Telemetry,
  type TelemetryOptions,
} from './telemetry.js';

/**
 * Starts the metrics for the agent's composition root: identity, process table, `metrics.topN`
 * (followed across config reloads), the agent's logger and its state directory (home of the
 * export spool, CYBERCORP_BUFFER_SPOOL=file) all come from the agent.
 */
export function startAgentTelemetry(
  context: TelemetryContext,
  /** Replacements for tests: an in-memory exporter, fixture host files. */
  overrides: Partial<TelemetryOptions> = {},
): Telemetry {
  const log = context.log.child({ component: 'metrics' });
  const telemetry = startPipeline({
    ...overrides,
    resource: context.resource.resource,
    processTable: context.processTable,
    topN: context.config.current().metrics.topN,
    spoolDirectory: join(context.stateDir, SPOOL_DIRECTORY_NAME),
    logger: { info: (message) => log.info(message), warn: (message) => log.warn(message) },
  });
  const unsubscribe = context.config.onChange((next, previous) => {
    if (next.metrics.topN !== previous.metrics.topN) telemetry.setTopN(next.metrics.topN);
  });
  return {
    setTopN: (topN) => telemetry.setTopN(topN),
    forceFlush: () => telemetry.forceFlush(),
    shutdown: async () => {
      unsubscribe();
      await telemetry.shutdown();
    },
  };
}

function isAgentContext(options: TelemetryOptions | TelemetryContext): options is TelemetryContext {
  return 'config' in options && 'log' in options;
}

/**
 * The one public entry: the agent's bin passes its TelemetryContext; library users and the
 * benchmark pass explicit TelemetryOptions.
 */
export function startTelemetry(options: TelemetryOptions | TelemetryContext): Telemetry {
  return isAgentContext(options) ? startAgentTelemetry(options) : startPipeline(options);
}
