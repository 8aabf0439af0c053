import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, InMemoryMetricExporter } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigStore } from '../config/config-store.js';
import { silentLogger } from '../logger.js';
import { startAgentTelemetry } from './agent-telemetry.js';
import type { Telemetry } from './telemetry.js';
import { FakeProcessTable, FixtureHostFiles, processSample } from './test-support/fixtures.js';

const PROC = {
  stat: 'cpu0 1 0 1 1 0 0 0 0\n',
  meminfo: 'MemTotal: 1000 kB\nMemFree: 400 kB\nBuffers: 100 kB\nCached: 100 kB\n',
  'net/dev': 'h\nh\n',
  'self/mounts': '',
  diskstats: '',
  loadavg: '0.10 0.20 0.30 1/10 100\n',
  uptime: '100.0 50.0\n',
};

describe('startAgentTelemetry', () => {
  let telemetry: Telemetry | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await telemetry?.shutdown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("uses the agent's resource and follows metrics.topN across config reloads", async () => {
    dir = mkdtempSync(join(tmpdir(), 'agent-telemetry-'));
    const path = join(dir, 'agent.yaml');
    writeFileSync(path, 'metrics:\n  topN: 1\n');
    const config = await ConfigStore.open(path, silentLogger);
    const attributes = { 'host.name': 'web-2', 'service.instance.id': 'uid-1' };
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const table = new FakeProcessTable(
      [1, 2, 3, 4, 5, 6].map((pid) =>
        processSample({ pid, cpuSeconds: pid, memoryBytes: 1000 - pid }),
      ),
    );
    telemetry = startAgentTelemetry(
      {
        resource: { attributes, resource: resourceFromAttributes(attributes) },
        processTable: table,
        config,
        log: silentLogger,
        stateDir: dir,
      },
      { exporter, files: new FixtureHostFiles(PROC), exportIntervalMillis: 60_000, cpuCount: 1 },
    );
    const processPids = () => {
      const metrics =
        exporter
          .getMetrics()
          .at(-1)
          ?.scopeMetrics.flatMap((s) => s.metrics) ?? [];
      const memory = metrics.find((m) => m.descriptor.name === 'process.memory.usage');
      return memory?.dataPoints.map((p) => p.attributes['process.pid']);
    };

    await telemetry.forceFlush();
    expect(exporter.getMetrics()[0]?.resource.attributes).toMatchObject(attributes);
    // Top 1 by CPU (pid 6) and top 1 by memory (pid 1).
    expect(processPids()).toEqual([6, 1]);

    // Since the last cycle the higher the pid the busier, each well below one CPU.
    await sleep(1100); // past the window in which one table read serves a whole cycle
    table.rows = table.rows.map((row) => ({ ...row, cpuSeconds: row.cpuSeconds + row.pid / 1000 }));
    writeFileSync(path, 'metrics:\n  topN: 2\n');
    await config.reload();
    await telemetry.forceFlush();
    expect(processPids()).toEqual([6, 5, 1, 2]);
  });
});
