/**
 * Issue 11, OTLP over TLS with the real agent process and the real Collector: the Collector
 * serves its OTLP receivers with otel-config/collector-tls.yaml (one instance TLS only, one
 * requiring client certificates), the agent exports to https:// with the standard
 * OTEL_EXPORTER_OTLP_* TLS variables, and its metrics arrive in a real Prometheus. With a CA that
 * did not issue the Collector's certificate, or without the required client certificate, nothing
 * is accepted and the agent's log says why.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { makeDevCerts, type DevCerts } from '../control-api/src/test-support/dev-certs.js';
import { AGENT_BIN, TEST_AGENT_CONFIG } from './support/control-stack.js';
import { buildCollector, COLLECTOR_BUILD_TIMEOUT_MS, startCollector } from './support/otelcol.js';
import {
  freePort,
  requireBinary,
  startProcess,
  waitFor,
  type StartedProcess,
} from './support/processes.js';
import { queryPrometheus, startPrometheus, type RunningServer } from './support/prometheus.js';

type Collector = Awaited<ReturnType<typeof startCollector>>;

describe('agent → Collector over OTLP gRPC with TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-otlp-tls-'));
  let certs: DevCerts;
  /** Another CA, which did not sign the Collector's certificate. */
  let otherCerts: DevCerts;
  let tlsCollector: Collector | undefined;
  let mutualCollector: Collector | undefined;
  let prometheus: RunningServer | undefined;
  const agents: StartedProcess[] = [];

  beforeAll(async () => {
    requireBinary('prometheus', 'Debian package prometheus; run scripts/setup-deps');
    certs = await makeDevCerts();
    otherCerts = await makeDevCerts();
    const binary = await buildCollector();
    const prometheusPort = await freePort();
    const remoteWriteUrl = `http://127.0.0.1:${prometheusPort}/api/v1/write`;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      stringify({ global: { scrape_interval: '5s', evaluation_interval: '5s' } }),
    );
    prometheus = await startPrometheus(join(dir, 'prometheus.yml'), dir, prometheusPort);
    const serverTls = { certFile: certs.certFile, keyFile: certs.keyFile };
    tlsCollector = await startCollector(binary, remoteWriteUrl, undefined, { tls: serverTls });
    mutualCollector = await startCollector(binary, remoteWriteUrl, undefined, {
      tls: { ...serverTls, clientCaFile: certs.caFile },
    });
  }, COLLECTOR_BUILD_TIMEOUT_MS);

  afterAll(async () => {
    for (const agent of agents) await agent.stop();
    await tlsCollector?.stop();
    await mutualCollector?.stop();
    await prometheus?.stop();
    await certs?.remove();
    await otherCerts?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A telemetry-only agent exporting every second to `collector` over https://. */
  function agent(hostName: string, collector: Collector, env: NodeJS.ProcessEnv) {
    const config = join(dir, `${hostName}.yaml`);
    writeFileSync(config, TEST_AGENT_CONFIG);
    const started = startProcess(process.execPath, [AGENT_BIN, '--config', config], {
      name: `cybercorp-agent ${hostName}`,
      env: {
        PATH: process.env.PATH,
        CYBERCORP_AGENT_STATE_DIR: join(dir, `${hostName}-state`),
        OTEL_EXPORTER_OTLP_ENDPOINT: `https://${collector.grpcEndpoint}`,
        OTEL_METRIC_EXPORT_INTERVAL: '1000',
        OTEL_RESOURCE_ATTRIBUTES: `host.name=${hostName}`,
        ...env,
      },
    });
    agents.push(started);
    return started;
  }

  const series = (hostName: string) =>
    queryPrometheus(prometheus!.url, `system_memory_usage_bytes{host_name="${hostName}"}`);

  const arrives = (hostName: string, agentProcess: StartedProcess) =>
    waitFor(
      `metrics of ${hostName} in Prometheus`,
      async () => ((await series(hostName)).length > 0 ? true : undefined),
      { timeoutMs: 60_000, intervalMs: 500, process: agentProcess },
    );

  /** Waits for the agent to log its failing export, then checks nothing of it arrived. */
  async function refused(hostName: string, agentProcess: StartedProcess, witness: string) {
    const line = await waitFor(
      `${hostName} to log the failing export`,
      async () =>
        /metrics export to https:\/\/\S+ failing \((.*?)\); the agent keeps running/.exec(
          agentProcess.output(),
        ) ?? undefined,
      { timeoutMs: 60_000, process: agentProcess },
    );
    // A witness agent exporting to the same Collector at the same time got through meanwhile.
    await arrives(witness, agentProcess);
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    expect(await series(hostName)).toEqual([]);
    agentProcess.assertRunning();
    const reason = line[1] ?? '';
    console.log(`${hostName} refused: ${reason}`);
    return reason;
  }

  it('exports over TLS with the CA, and says so at start', async () => {
    const running = agent('otlp-tls-ok', tlsCollector!, {
      OTEL_EXPORTER_OTLP_CERTIFICATE: certs.caFile,
    });
    await arrives('otlp-tls-ok', running);
    expect(running.output()).toContain(
      `metrics export to https://${tlsCollector!.grpcEndpoint} over TLS, CA ${certs.caFile}`,
    );
  });

  it('with a CA that did not issue the Collector certificate, nothing is accepted', async () => {
    const running = agent('otlp-tls-wrong-ca', tlsCollector!, {
      OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE: otherCerts.caFile,
    });
    const reason = await refused('otlp-tls-wrong-ca', running, 'otlp-tls-ok');
    expect(reason).toMatch(/unable to verify the first certificate/);
  });

  it('with client certificates required: the agent with one exports, one without is refused', async () => {
    const withClient = agent('otlp-mtls-ok', mutualCollector!, {
      OTEL_EXPORTER_OTLP_CERTIFICATE: certs.caFile,
      OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: certs.clientCertFile,
      OTEL_EXPORTER_OTLP_CLIENT_KEY: certs.clientKeyFile,
    });
    await arrives('otlp-mtls-ok', withClient);
    const withoutClient = agent('otlp-mtls-none', mutualCollector!, {
      OTEL_EXPORTER_OTLP_CERTIFICATE: certs.caFile,
    });
    const reason = await refused('otlp-mtls-none', withoutClient, 'otlp-mtls-ok');
    expect(reason).toMatch(/alert certificate required/);
  });

  it('does not start with an unreadable TLS file, naming the variable', async () => {
    const running = agent('otlp-tls-missing', tlsCollector!, {
      OTEL_EXPORTER_OTLP_CERTIFICATE: join(dir, 'no-such-ca.crt'),
    });
    const exit = await running.exit();
    expect(exit.code).not.toBe(0);
    expect(running.output()).toMatch(
      /OTEL_EXPORTER_OTLP_CERTIFICATE .*no-such-ca\.crt cannot be read/,
    );
  });
});
