import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import { OPAMP_PATH } from '@cybercorp/protocol';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { AGENT_ENVIRONMENT_VARIABLES, validateConfig } from '../collector-agent/src/index.js';
import { API_PREFIX } from '../control-api/src/app.js';
import { ENVIRONMENT_VARIABLES, resolveConfig } from '../control-api/src/config.js';
import { OTLP_METRICS_PATH } from '../control-api/src/ingest/otlp-endpoint.js';
import {
  HEALTH_PATH,
  METRICS_PATH,
  READY_PATH,
} from '../control-api/src/infra/operational-paths.js';
import { composeService, ENV_REFERENCE, repositoryPathOf } from './support/compose.js';
import { runCommand } from './support/processes.js';
import { requirePythonTool } from './support/python-tools.js';

// No cluster runs here: the manifests are checked against the schemas kubernetes-validate ships
// for a named Kubernetes version, and against the code they deploy (ports, probe paths,
// variable names, config files), so that a change on either side that breaks the other fails.
const KUBERNETES_VERSION = '1.33.0';
const root = resolve(import.meta.dirname, '..');
const dir = join(root, 'deploy/kubernetes');
/** The API's own defaults: its port and the heartbeat interval it asks of agents. */
const apiDefaults = resolveConfig({}, {});
/** Shows the keys of the Secrets the manifests reference; never applied, never filled in. */
const SECRET_EXAMPLE = 'secret.example.yaml';

interface Resource {
  file: string;
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  [field: string]: any;
}

function resourcesOf(file: string): Resource[] {
  return parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message}`);
    return { ...(doc.toJS() as Omit<Resource, 'file'>), file } as Resource;
  });
}

const kustomization = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'));
const manifestFiles: string[] = kustomization.resources;
const resources = manifestFiles.flatMap(resourcesOf);
const exampleSecrets = resourcesOf(SECRET_EXAMPLE);

function find(kind: string, name: string): Resource {
  const found = resources.find((r) => r.kind === kind && r.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in deploy/kubernetes/kustomization.yaml`);
  return found;
}

const configMapData = (name: string): Record<string, string> => find('ConfigMap', name).data;

function documentedSecretKeys(name: string): string[] {
  const secret = exampleSecrets.find((s) => s.metadata.name === name);
  if (!secret) throw new Error(`Secret ${name} is not documented in ${SECRET_EXAMPLE}`);
  return Object.keys({ ...secret.data, ...secret.stringData });
}

/** The one container of a workload, with its pod spec. */
function workload(kind: string, name: string): { pod: any; container: any } {
  const pod = find(kind, name).spec.template.spec;
  expect(pod.containers, `${kind} ${name} containers`).toHaveLength(1);
  return { pod, container: pod.containers[0] };
}

/** The container's environment: envFrom ConfigMaps first, then its own env entries. */
function environmentOf(container: any): Map<string, any> {
  const env = new Map<string, any>();
  for (const source of container.envFrom ?? []) {
    expect(source.configMapRef, 'envFrom only from ConfigMaps (Secrets by key)').toBeDefined();
    for (const [name, value] of Object.entries(configMapData(source.configMapRef.name)))
      env.set(name, { name, value });
  }
  for (const entry of container.env ?? []) env.set(entry.name, entry);
  return env;
}

/** Plain value of a variable (a literal or from the kustomized ConfigMaps); undefined if unset. */
function valueOf(env: Map<string, any>, name: string): string | undefined {
  const entry = env.get(name);
  return entry?.value === undefined ? undefined : String(entry.value);
}

/** Where a file path inside the container comes from: which volume, and which key of it. */
function mountedFile(pod: any, container: any, path: string): { volume: any; key: string } {
  const mount = (container.volumeMounts ?? []).find((m: any) => path.startsWith(`${m.mountPath}/`));
  if (!mount) throw new Error(`${path} is on no volume mount of ${container.name}`);
  const volume = pod.volumes.find((v: any) => v.name === mount.name);
  const relative = posix.relative(mount.mountPath, path);
  const items: any[] = volume.secret?.items ?? volume.configMap?.items ?? [];
  const key = items.length > 0 ? items.find((i) => i.path === relative)?.key : relative;
  if (key === undefined) throw new Error(`${path}: volume ${volume.name} has no item for it`);
  return { volume, key };
}

/** The container port a probe or Service names, by name or number. */
function containerPort(container: any, port: string | number): number {
  const found = container.ports.find((p: any) => p.name === port || p.containerPort === port);
  if (!found) throw new Error(`${container.name} has no port ${port}`);
  return found.containerPort;
}

/** The container port behind `service:port` (a Service port's number or name). */
function servicePortTarget(serviceName: string, port: string | number, container: any): number {
  const service = find('Service', serviceName);
  const servicePort = service.spec.ports.find((p: any) => p.port === port || p.name === port);
  if (!servicePort) throw new Error(`Service ${serviceName} has no port ${port}`);
  return containerPort(container, servicePort.targetPort);
}

const podLabels = (kind: string, name: string) => find(kind, name).spec.template.metadata.labels;

/** The Collector's --config files, in order, as otel-config/ files (the image holds copies). */
function collectorConfigFiles(container: any): { file: string; text: string }[] {
  const dockerfile = readFileSync(join(root, 'otel-config/Dockerfile'), 'utf8');
  const copies = new Map(
    [...dockerfile.matchAll(/^COPY (collector[\w-]*\.yaml) (\S+)$/gm)].map(
      (m) => [m[2], m[1]] as [string, string],
    ),
  );
  return container.args.map((arg: string) => {
    const path = /^--config=(\S+)$/.exec(arg)?.[1] ?? '';
    const source = copies.get(path);
    if (!source) throw new Error(`${arg}: not a file otel-config/Dockerfile copies into the image`);
    return { file: source, text: readFileSync(join(root, 'otel-config', source), 'utf8') };
  });
}

/** The configuration the Collector runs: its --config files merged, as the Collector does. */
const collectorConfig = (files: { text: string }[]): any =>
  files.map(({ text }) => parse(text)).reduce(mergeCollectorConfig);

/** The Collector merges its --config files in order: maps key by key, anything else replaced. */
function mergeCollectorConfig(base: any, overlay: any): any {
  const isMap = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isMap(base) || !isMap(overlay)) return overlay;
  const merged = { ...base };
  for (const [key, value] of Object.entries(overlay))
    merged[key] = mergeCollectorConfig(base[key], value);
  return merged;
}

/** A configuration value with its `${env:…}` references resolved in the container's environment. */
function expandEnv(value: string, env: Map<string, any>): string {
  return value.replace(ENV_REFERENCE, (_, name: string, fallback?: string, byDefault?: string) => {
    const set = valueOf(env, name);
    if (set === undefined && fallback === undefined) throw new Error(`${name} is not set`);
    return set ?? (byDefault as string);
  });
}

function expectHardened(container: any, pod: any, what: string) {
  const security = container.securityContext ?? {};
  expect(security.allowPrivilegeEscalation, `${what} allowPrivilegeEscalation`).toBe(false);
  expect(security.readOnlyRootFilesystem, `${what} readOnlyRootFilesystem`).toBe(true);
  expect(security.capabilities?.drop, `${what} drops capabilities`).toEqual(['ALL']);
  expect(pod.securityContext?.seccompProfile?.type, `${what} seccomp`).toBe('RuntimeDefault');
  expect(pod.automountServiceAccountToken, `${what} needs no API token`).toBe(false);
}

describe('deploy/kubernetes', () => {
  it('lists every manifest of the directory in kustomization.yaml, the Secret example excepted', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'));
    expect(new Set(manifestFiles).size).toBe(manifestFiles.length);
    expect([...manifestFiles].sort()).toEqual(
      files.filter((f) => f !== 'kustomization.yaml' && f !== SECRET_EXAMPLE).sort(),
    );
    expect(manifestFiles).not.toContain(SECRET_EXAMPLE);
    // Nothing else but its README lives there.
    expect(readdirSync(dir).filter((f) => !files.includes(f))).toEqual(['README.md']);
  });

  it(`validates against the schemas of Kubernetes ${KUBERNETES_VERSION} (kubernetes-validate --strict)`, async () => {
    const cli = requirePythonTool('kubernetes-validate');
    const files = [...manifestFiles, SECRET_EXAMPLE];
    const result = await runCommand(cli, ['--strict', '-k', KUBERNETES_VERSION, ...files], {
      cwd: dir,
    });
    const output = `${result.stdout}${result.stderr}`;
    expect(result.code, `kubernetes-validate failed:\n${output}`).toBe(0);
    // A kind without a schema is only a warning to the tool: every document must have passed.
    expect(output, output).not.toMatch(/WARN|ERROR/);
    const passed = output.match(/ passed for resource /g) ?? [];
    expect(passed.length, output).toBe(resources.length + exampleSecrets.length);
  });

  it('commits no Secret: they are referenced, and the example holds placeholders only', () => {
    expect(resources.filter((r) => r.kind === 'Secret')).toEqual([]);
    expect(kustomization.secretGenerator).toBeUndefined();
    expect(exampleSecrets.length).toBeGreaterThan(0);
    for (const secret of exampleSecrets) {
      expect(secret.kind).toBe('Secret');
      expect(secret.data, `${secret.metadata.name}: stringData placeholders only`).toBeUndefined();
      for (const [key, value] of Object.entries<string>(secret.stringData)) {
        expect(value, `${secret.metadata.name}.${key}`).toContain('REPLACE_ME');
      }
    }
  });

  it('autoscales the API with autoscaling/v2: 2 to 10 replicas, CPU 70 %, memory 80 %', () => {
    const hpa = find('HorizontalPodAutoscaler', 'control-api');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec.minReplicas).toBe(2);
    expect(hpa.spec.maxReplicas).toBe(10);
    const utilization = Object.fromEntries(
      hpa.spec.metrics.map((m: any) => {
        expect(m.type).toBe('Resource');
        expect(m.resource.target.type).toBe('Utilization');
        return [m.resource.name, m.resource.target.averageUtilization];
      }),
    );
    expect(utilization).toEqual({ cpu: 70, memory: 80 });
    expect(hpa.spec.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'control-api',
    });
    // Utilization is a share of the requests, which must therefore be set.
    const { container } = workload('Deployment', 'control-api');
    expect(container.resources.requests).toHaveProperty('cpu');
    expect(container.resources.requests).toHaveProperty('memory');
    expect(find('Deployment', 'control-api').spec.replicas).toBe(2);
    const pdb = find('PodDisruptionBudget', 'control-api');
    expect(pdb.spec.selector.matchLabels).toEqual(podLabels('Deployment', 'control-api'));
  });

  it("runs the API on its real port and scheme, probing the app's health paths", () => {
    const { container } = workload('Deployment', 'control-api');
    const env = environmentOf(container);
    const port = Number(valueOf(env, 'PORT') ?? apiDefaults.port);
    expect(container.ports.map((p: any) => p.containerPort)).toEqual([port]);
    const exposed = /^EXPOSE (\d+)$/m.exec(readFileSync(join(root, 'Dockerfile'), 'utf8'))?.[1];
    expect(Number(exposed), 'the port the Dockerfile exposes').toBe(port);
    // With a certificate and key the API serves HTTPS (and WSS) on that one port.
    expect(valueOf(env, 'TLS_CERT_FILE')).toBeDefined();
    expect(valueOf(env, 'TLS_KEY_FILE')).toBeDefined();
    const probes = {
      startupProbe: HEALTH_PATH,
      livenessProbe: HEALTH_PATH,
      readinessProbe: READY_PATH,
    };
    for (const [probe, path] of Object.entries(probes)) {
      const check = container[probe].httpGet;
      expect(check.path, probe).toBe(path);
      expect(check.scheme, probe).toBe('HTTPS');
      expect(containerPort(container, check.port), probe).toBe(port);
    }
    expect(valueOf(env, 'HOST')).not.toMatch(/^(127\.|localhost$|::1$)/);
    const service = find('Service', 'control-api');
    expect(service.spec.selector).toEqual(podLabels('Deployment', 'control-api'));
    for (const p of service.spec.ports) expect(containerPort(container, p.targetPort)).toBe(port);
  });

  it('gives the API only variables it reads, its secrets by reference, its files from Secrets', () => {
    const { pod, container } = workload('Deployment', 'control-api');
    const env = environmentOf(container);
    const known: readonly string[] = ENVIRONMENT_VARIABLES;
    expect([...env.keys()].filter((name) => !known.includes(name))).toEqual([]);
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'CYBERCORP_ADMIN_PASSWORD']) {
      expect(env.get(name)?.valueFrom?.secretKeyRef, `${name} from a Secret`).toBeDefined();
    }
    // The files hold keys: each comes from a Secret, the JWT keys one file all replicas share.
    for (const name of ['TLS_CERT_FILE', 'TLS_KEY_FILE', 'CYBERCORP_JWT_SECRET_FILE']) {
      const path = valueOf(env, name);
      expect(path, name).toBeDefined();
      const { volume } = mountedFile(pod, container, path as string);
      expect(volume.secret, `${name} is on a Secret volume`).toBeDefined();
    }
    expect(valueOf(env, 'TRUSTED_PROXIES'), 'the ingress controller is a trusted proxy').toMatch(
      /\S/,
    );
  });

  it('runs the API as the image user, read-only, without privileges, writing only to emptyDirs', () => {
    const { pod, container } = workload('Deployment', 'control-api');
    // The Dockerfile's runtime stage runs as `node`, uid 1000 in the official node images.
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:[^\n]*\n(?:[^\n]*\n)*USER node$/m);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBe(1000);
    expect(container.securityContext.runAsNonRoot).toBe(true);
    expectHardened(container, pod, 'control-api');
    for (const mount of container.volumeMounts) {
      const volume = pod.volumes.find((v: any) => v.name === mount.name);
      if (!mount.readOnly) expect(volume.emptyDir, `${mount.mountPath} writable`).toBeDefined();
    }
  });

  it('routes /api/ and /v1/opamp through a TLS Ingress, with WebSocket timeouts over two heartbeats, and not /metrics', () => {
    const ingresses = resources.filter((r) => r.kind === 'Ingress');
    const routes: { path: string; pathType: string; ingress: Resource }[] = [];
    const { container } = workload('Deployment', 'control-api');
    for (const ingress of ingresses) {
      expect(ingress.spec.tls.length, `${ingress.metadata.name} TLS`).toBeGreaterThan(0);
      const annotations = ingress.metadata.annotations ?? {};
      expect(annotations['nginx.ingress.kubernetes.io/backend-protocol']).toBe('HTTPS');
      // The API's certificate is verified for the name the agents use too: the Service's.
      expect(annotations['nginx.ingress.kubernetes.io/proxy-ssl-verify']).toBe('on');
      expect(annotations['nginx.ingress.kubernetes.io/proxy-ssl-name']).toBe('control-api');
      for (const rule of ingress.spec.rules) {
        for (const p of rule.http.paths) {
          expect(p.backend.service.name).toBe('control-api');
          servicePortTarget('control-api', p.backend.service.port.name, container);
          routes.push({ path: p.path, pathType: p.pathType, ingress });
        }
      }
    }
    const routed = (path: string) =>
      routes.find((r) =>
        r.pathType === 'Exact'
          ? r.path === path
          : path === r.path.replace(/\/$/, '') || path.startsWith(r.path.replace(/\/?$/, '/')),
      );
    expect(routed(`${API_PREFIX}/agents`)?.path).toBe('/api/');
    expect(routed(OPAMP_PATH)?.pathType).toBe('Exact');
    for (const hidden of [METRICS_PATH, HEALTH_PATH, READY_PATH])
      expect(routed(hidden), hidden).toBeUndefined();
    const opamp = routed(OPAMP_PATH)!.ingress.metadata.annotations ?? {};
    for (const timeout of ['proxy-read-timeout', 'proxy-send-timeout']) {
      const seconds = Number(opamp[`nginx.ingress.kubernetes.io/${timeout}`]);
      expect(seconds, timeout).toBeGreaterThan(2 * apiDefaults.heartbeatSeconds);
    }
  });

  it("runs the agent on every node's host PID namespace, with the launcher of the API's image", () => {
    const { pod, container } = workload('DaemonSet', 'cybercorp-agent');
    expect(pod.hostPID).toBe(true);
    // One image for both (see the Dockerfile); the agent through its launcher (its node flags).
    expect(container.image).toBe(workload('Deployment', 'control-api').container.image);
    const workdir = /^WORKDIR (\S+)$/m.exec(readFileSync(join(root, 'Dockerfile'), 'utf8'))?.[1];
    const pkg = JSON.parse(readFileSync(join(root, 'collector-agent/package.json'), 'utf8'));
    const launcher = posix.join('collector-agent', pkg.bin['cybercorp-agent']);
    expect(container.command).toEqual([posix.join(workdir as string, launcher)]);
    accessSync(join(root, launcher), constants.X_OK);
    expectHardened(container, pod, 'agent');
    // Root only for CAP_KILL (signalling other users' processes); no other capability.
    expect(container.securityContext.capabilities.add).toEqual(['KILL']);
    const env = environmentOf(container);
    for (const mount of container.volumeMounts) {
      const volume = pod.volumes.find((v: any) => v.name === mount.name);
      if (volume.hostPath && !mount.readOnly) {
        expect(mount.mountPath, 'the only writable host path').toBe(
          valueOf(env, 'CYBERCORP_AGENT_STATE_DIR'),
        );
      }
    }
  });

  it('gives the agent only variables it reads: the OpAMP URL of the API Service, its CA, its token, the Collector', () => {
    const { pod, container } = workload('DaemonSet', 'cybercorp-agent');
    const env = environmentOf(container);
    const known: readonly string[] = AGENT_ENVIRONMENT_VARIABLES;
    // Variables the agent does not read may only feed $(NAME) references of the others.
    const referenced = [...env.values()].flatMap((e) =>
      [...String(e.value ?? '').matchAll(/\$\(([A-Z0-9_]+)\)/g)].map((m) => m[1]),
    );
    for (const name of env.keys()) {
      if (!known.includes(name)) {
        expect(referenced, `${name}: the agent does not read it`).toContain(name);
        expect(env.get(name).valueFrom?.fieldRef, `${name} from the downward API`).toBeDefined();
      }
    }
    expect(env.get('CYBERCORP_AGENT_TOKEN')?.valueFrom?.secretKeyRef).toBeDefined();

    const api = workload('Deployment', 'control-api').container;
    const apiPort = api.ports[0].containerPort;
    const control = new URL(valueOf(env, 'CYBERCORP_CONTROL_URL') as string);
    expect(control.protocol).toBe('wss:');
    expect(control.pathname).toBe(OPAMP_PATH);
    expect(servicePortTarget(control.hostname, Number(control.port || 443), api)).toBe(apiPort);
    const ca = mountedFile(pod, container, valueOf(env, 'CYBERCORP_CA_FILE') as string);
    expect(ca.volume.secret ?? ca.volume.configMap).toBeDefined();

    const collector = workload('Deployment', 'otel-collector').container;
    const grpcEndpoint = valueOf(environmentOf(collector), 'OTELCOL_OTLP_GRPC_ENDPOINT');
    const otlp = new URL(valueOf(env, 'OTEL_EXPORTER_OTLP_ENDPOINT') as string);
    expect(servicePortTarget(otlp.hostname, Number(otlp.port), collector)).toBe(
      Number(grpcEndpoint?.split(':').pop()),
    );
  });

  it("loads the agent's config file from a ConfigMap: valid for the agent, protected policy on", () => {
    const { pod, container } = workload('DaemonSet', 'cybercorp-agent');
    const at = container.args.indexOf('--config');
    expect(at).toBeGreaterThanOrEqual(0);
    const { volume, key } = mountedFile(pod, container, container.args[at + 1]);
    expect(volume.configMap, 'a ConfigMap directory (subPath mounts miss updates)').toBeDefined();
    const mount = container.volumeMounts.find((m: any) => m.name === volume.name);
    expect(mount.subPath).toBeUndefined();
    const config = validateConfig(parse(configMapData(volume.configMap.name)[key] as string));
    expect(config.control.enabled).toBe(true);
    expect(config.protected.names).toEqual(expect.arrayContaining(['kubelet', 'containerd']));
    expect(config.protected.cgroups).toContain('system.slice/kubelet.service');
  });

  it('runs the Collector on the otel-config files built into its image, as compose does, setting only what they read', () => {
    const { pod, container } = workload('Deployment', 'otel-collector');
    // One copy of the configuration: the image's, copied from otel-config/ by its Dockerfile.
    const files = collectorConfigFiles(container);
    expect(files[0]?.file).toBe('collector.yaml');
    // The same files, in the same order, as the compose service mounts and runs.
    const composed = composeService('otel-collector');
    const composeFiles = (composed.command ?? []).map((arg) =>
      repositoryPathOf(composed, arg.replace(/^--config=/, ''))?.replace(/^otel-config\//, ''),
    );
    expect(files.map(({ file }) => file)).toEqual(composeFiles);
    const reads = files.flatMap(({ text }) => [...text.matchAll(ENV_REFERENCE)]);
    const env = environmentOf(container);
    for (const name of env.keys()) {
      expect(
        reads.map((m) => m[1]),
        `${name}: no configuration file reads it`,
      ).toContain(name);
    }
    for (const [, name, fallback] of reads) {
      if (!fallback) expect(env.get(name as string), `${name} has no default`).toBeDefined();
    }
    const config = collectorConfig(files);
    const listeners = Object.values<any>(config.receivers.otlp.protocols);
    expect(listeners.length).toBeGreaterThan(0);
    for (const { endpoint } of listeners) {
      const port = Number(expandEnv(endpoint, env).split(':').pop());
      expect(containerPort(container, port)).toBe(port);
    }
    expectHardened(container, pod, 'otel-collector');
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    const service = find('Service', 'otel-collector');
    expect(service.spec.selector).toEqual(podLabels('Deployment', 'otel-collector'));
  });

  it("exports the metrics to the API's OTLP ingest through its Service, verified by the CA, with the token from a Secret", () => {
    const { pod, container } = workload('Deployment', 'otel-collector');
    const env = environmentOf(container);
    const config = collectorConfig(collectorConfigFiles(container));
    const toIngest = Object.entries<any>(config.service.pipelines)
      .filter(([name]) => name === 'metrics' || name.startsWith('metrics/'))
      .flatMap(([, pipeline]) =>
        (pipeline.exporters as string[])
          .filter((id) => id === 'otlphttp' || id.startsWith('otlphttp/'))
          .map((id) => ({ pipeline, exporter: config.exporters[id] })),
      );
    expect(toIngest.length, 'a metrics pipeline with an otlphttp exporter').toBe(1);
    const { pipeline, exporter } = toIngest[0]!;
    expect(pipeline.receivers).toContain('otlp');

    // The exporter appends /v1/metrics to its endpoint: the path of the API's ingest.
    expect(OTLP_METRICS_PATH).toBe('/v1/metrics');
    const endpoint = new URL(expandEnv(exporter.endpoint, env));
    expect(endpoint.pathname).toBe('/');
    // HTTPS to the API's Service, whose name its certificate holds (as for the agents' OpAMP).
    expect(endpoint.protocol).toBe('https:');
    const api = workload('Deployment', 'control-api').container;
    expect(servicePortTarget(endpoint.hostname, Number(endpoint.port || 443), api)).toBe(
      api.ports[0].containerPort,
    );
    expect(exporter.tls?.insecure_skip_verify).not.toBe(true);
    const ca = mountedFile(pod, container, expandEnv(exporter.tls?.ca_file ?? '', env));
    const agent = workload('DaemonSet', 'cybercorp-agent');
    const agentCaFile = valueOf(environmentOf(agent.container), 'CYBERCORP_CA_FILE') as string;
    const agentCa = mountedFile(agent.pod, agent.container, agentCaFile);
    expect([ca.volume.secret?.secretName, ca.key]).toEqual([
      agentCa.volume.secret?.secretName,
      agentCa.key,
    ]);

    const token = /^Bearer \$\{env:([A-Z0-9_]+)\}$/.exec(exporter.headers?.Authorization)?.[1];
    expect(token, 'Authorization: Bearer and an env reference').toBeDefined();
    const secret = env.get(token as string)?.valueFrom?.secretKeyRef;
    expect(secret, `${token} from a Secret`).toBeDefined();
    expect(documentedSecretKeys(secret.name)).toContain(secret.key);
    for (const map of resources.filter((r) => r.kind === 'ConfigMap'))
      expect(Object.keys(map.data ?? {}), `ConfigMap ${map.metadata.name}`).not.toContain(token);
  });

  it('refers only to ConfigMaps of the kustomization and to Secrets documented in the example, key by key', () => {
    const references: { kind: 'ConfigMap' | 'Secret'; name: string; key?: string }[] = [];
    for (const r of resources) {
      const pod = r.spec?.template?.spec;
      for (const container of pod?.containers ?? []) {
        for (const source of container.envFrom ?? []) {
          if (source.configMapRef) references.push({ kind: 'ConfigMap', ...source.configMapRef });
          if (source.secretRef) references.push({ kind: 'Secret', ...source.secretRef });
        }
        for (const { valueFrom } of container.env ?? []) {
          if (valueFrom?.configMapKeyRef)
            references.push({ kind: 'ConfigMap', ...valueFrom.configMapKeyRef });
          if (valueFrom?.secretKeyRef)
            references.push({ kind: 'Secret', ...valueFrom.secretKeyRef });
        }
      }
      for (const volume of pod?.volumes ?? []) {
        const source = volume.configMap ?? volume.secret;
        if (!source) continue;
        const kind = volume.configMap ? 'ConfigMap' : 'Secret';
        const name = source.name ?? source.secretName;
        const items: any[] = source.items ?? [];
        if (items.length === 0) references.push({ kind, name });
        for (const item of items) references.push({ kind, name, key: item.key });
      }
      for (const tls of r.kind === 'Ingress' ? r.spec.tls : [])
        references.push({ kind: 'Secret', name: tls.secretName, key: 'tls.crt' });
      const backendCa = r.metadata.annotations?.['nginx.ingress.kubernetes.io/proxy-ssl-secret'];
      if (backendCa) {
        const [namespace, name] = backendCa.split('/');
        expect(namespace, 'proxy-ssl-secret is namespace/name').toBe(kustomization.namespace);
        references.push({ kind: 'Secret', name: name as string, key: 'ca.crt' });
      }
    }
    expect(references.length).toBeGreaterThan(10);
    for (const ref of references) {
      const what = `${ref.kind} ${ref.name}${ref.key ? ` key ${ref.key}` : ''}`;
      expect((ref as { optional?: boolean }).optional, `${what} optional`).toBeUndefined();
      const keys =
        ref.kind === 'ConfigMap'
          ? Object.keys(configMapData(ref.name))
          : documentedSecretKeys(ref.name);
      if (ref.key) expect(keys, what).toContain(ref.key);
    }
    // The example documents nothing that is not used.
    for (const secret of exampleSecrets) {
      expect(
        references.some((ref) => ref.kind === 'Secret' && ref.name === secret.metadata.name),
        `${secret.metadata.name} is referenced`,
      ).toBe(true);
    }
  });
});
