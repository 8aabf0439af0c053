import { readFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

// Semantic-convention names still in the incubating set, spelled out so we do not depend on it.
export const ATTR_HOST_NAME = 'host.name';
export const ATTR_HOST_ID = 'host.id';
export const ATTR_OS_TYPE = 'os.type';
export const ATTR_SERVICE_INSTANCE_ID = 'service.instance.id';

export const SERVICE_NAME = 'cybercorp-agent';

const MACHINE_ID_PATHS = ['/etc/machine-id', '/var/lib/dbus/machine-id'];

export interface ResourceOptions {
  /** The persisted OpAMP instance uid; also the OTel `service.instance.id`. */
  instanceUid: string;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  hostname?: () => string;
  machineIdPaths?: readonly string[];
  serviceVersion?: string;
}

export interface AgentResource {
  /** Flat attributes, as sent in the OpAMP AgentDescription. */
  attributes: Record<string, string>;
  /** The same attributes as an OTel Resource for the MeterProvider. */
  resource: Resource;
}

/**
 * The one place the agent's identity is assembled, shared by OpAMP and the metrics pipeline so
 * the fleet list and the metrics describe the host identically. Precedence, lowest first:
 * detected values, OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME; `service.instance.id` is always
 * the instance uid because the control plane addresses the agent by it.
 */
export async function buildResource(options: ResourceOptions): Promise<AgentResource> {
  const env = options.env ?? process.env;
  const detected: Record<string, string> = {
    [ATTR_SERVICE_NAME]: SERVICE_NAME,
    [ATTR_SERVICE_VERSION]: options.serviceVersion ?? (await agentVersion()),
    [ATTR_HOST_NAME]: (options.hostname ?? osHostname)(),
    [ATTR_OS_TYPE]: osType(options.platform ?? process.platform),
  };
  const hostId = await readMachineId(options.machineIdPaths ?? MACHINE_ID_PATHS);
  if (hostId !== undefined) detected[ATTR_HOST_ID] = hostId;
  const attributes = { ...detected, ...parseResourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES) };
  const serviceName = env.OTEL_SERVICE_NAME?.trim();
  if (serviceName) attributes[ATTR_SERVICE_NAME] = serviceName;
  attributes[ATTR_SERVICE_INSTANCE_ID] = options.instanceUid;
  return { attributes, resource: resourceFromAttributes(attributes) };
}

/** `key1=value1,key2=value2` with percent-encoded values, as the OTel SDK spec defines it. */
export function parseResourceAttributes(text: string | undefined): Record<string, string> {
  const attributes: Record<string, string> = {};
  if (!text) return attributes;
  for (const pair of text.split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    const key = pair.slice(0, at).trim();
    const raw = pair.slice(at + 1).trim();
    if (key === '') continue;
    try {
      attributes[key] = decodeURIComponent(raw);
    } catch {
      attributes[key] = raw;
    }
  }
  return attributes;
}

/** Node's platform names mapped to the semantic-convention `os.type` values. */
export function osType(platform: NodeJS.Platform): string {
  const names: Partial<Record<NodeJS.Platform, string>> = { win32: 'windows', sunos: 'solaris' };
  return names[platform] ?? platform;
}

async function readMachineId(paths: readonly string[]): Promise<string | undefined> {
  for (const path of paths) {
    try {
      const id = (await readFile(path, 'utf8')).trim();
      if (id !== '') return id;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return undefined;
}

/** The version from this package's package.json (dist/ and src/ both sit one level below it). */
export async function agentVersion(): Promise<string> {
  const text = await readFile(new URL('../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}
