import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { makeDevCerts, type DevCerts } from '../control-api/src/test-support/dev-certs.js';
import {
  compose,
  composeService as service,
  composeText,
  type ComposeService,
  ENV_REFERENCE,
  mountedAt,
} from './support/compose.js';
import { ARCHIVE_WAL_SCRIPT, archiveCommand } from './support/postgres-cluster.js';

// No Docker engine runs here, so the deployment file is checked by reading it: every mounted
// file exists in the repository, every service speaks on its standard port, and the
// configuration the services read matches what the project ships.
const root = resolve(import.meta.dirname, '..');

const API_REPLICAS = ['control-api-1', 'control-api-2'];
/** The directory `scripts/dev-certs certs` fills (git-ignored), mounted for TLS. */
const CERTS_DIR = './certs';

/**
 * The environment variables the non-test sources under `dirs` read (`env.NAME`,
 * `env['NAME']`): what the program's configuration really takes.
 */
function variablesRead(...dirs: string[]): Set<string> {
  const names = new Set<string>();
  for (const dir of dirs) {
    const files = readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' }).filter(
      (f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.includes('test-support'),
    );
    for (const file of files) {
      const text = readFileSync(join(root, dir, file), 'utf8');
      for (const m of text.matchAll(
        /\benv(?:\.([A-Z][A-Z0-9_]*)|\[['"]([A-Z][A-Z0-9_]*)['"]\])/g,
      )) {
        names.add((m[1] ?? m[2]) as string);
      }
    }
  }
  return names;
}

describe('docker-compose.yml', () => {
  let certs: DevCerts;
  beforeAll(async () => {
    certs = await makeDevCerts();
  });
  afterAll(async () => {
    await certs.remove();
  });

  it('has the whole stack', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      [
        'alert-webhook',
        'alertmanager',
        ...API_REPLICAS,
        'gateway',
        'grafana',
        'otel-collector',
        'postgres',
        'postgres-backup',
        'postgres-replica',
        'prometheus',
        'redis',
      ].sort(),
    );
  });

  it('mounts only files and folders that exist, and declares its named volumes', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      for (const volume of svc.volumes ?? []) {
        const source = volume.split(':')[0] as string;
        if (source === CERTS_DIR || source.startsWith(`${CERTS_DIR}/`)) {
          // Written by scripts/dev-certs (run into a temporary directory here), not committed.
          const inCerts = source.slice(CERTS_DIR.length);
          expect(existsSync(join(certs.dir, inCerts)), `${name} mounts ${source}`).toBe(true);
        } else if (source.startsWith('./')) {
          // The plugin's dist/ is produced by `npm run build`; everything else is committed.
          if (source === './grafana-app-plugin/dist') continue;
          expect(existsSync(join(root, source)), `${name} mounts ${source}`).toBe(true);
        } else {
          expect(compose.volumes, `${name} uses volume ${source}`).toHaveProperty(source);
        }
      }
    }
  });

  it('documents every variable it uses in .env.example', () => {
    const documented = new Set(
      [...readFileSync(join(root, '.env.example'), 'utf8').matchAll(/^([A-Z0-9_]+)=/gm)].map(
        (m) => m[1],
      ),
    );
    const used = [...composeText.matchAll(/\$\{([A-Z0-9_]+)/g)].map((m) => m[1] as string);
    expect(used.length).toBeGreaterThan(0);
    for (const name of used) expect(documented, `.env.example documents ${name}`).toContain(name);
  });

  it('publishes the standard ports, and the API only through the gateway', () => {
    const ports = (name: string) => service(name).ports ?? [];
    expect(ports('gateway')).toEqual(['443:443']);
    for (const replica of API_REPLICAS) expect(ports(replica)).toEqual([]);
    expect(ports('otel-collector')).toEqual(expect.arrayContaining(['4317:4317', '4318:4318']));
    expect(ports('prometheus')).toContain('9090:9090');
    expect(ports('alertmanager')).toContain('9093:9093');
    expect(ports('grafana')).toContain('3000:3000');
  });

  it('runs two API replicas sharing the database, Redis and the signing keys, serving TLS', () => {
    const [first, second] = API_REPLICAS.map(service) as [ComposeService, ComposeService];
    expect(second.environment).toEqual(first.environment);
    const env = first.environment ?? {};
    // Both database hosts, libpq-style: the API writes to whichever is the primary.
    expect(env.DATABASE_URL).toMatch(
      /^postgres:\/\/.*@postgres:5432,postgres-replica:5432\/cybercorp\?target_session_attrs=read-write$/,
    );
    expect(env.REDIS_URL).toBe('redis://redis:6379');
    expect(env).toHaveProperty('CYBERCORP_ADMIN_USER');
    expect(env).toHaveProperty('CYBERCORP_ADMIN_PASSWORD');
    // Secrets are required from the environment, never committed as literals.
    expect(env.CYBERCORP_ADMIN_PASSWORD).toMatch(/^\$\{CYBERCORP_ADMIN_PASSWORD:\?/);
    // The key file lies on a named volume both replicas mount.
    const keyFile = env.CYBERCORP_JWT_SECRET_FILE as string;
    for (const replica of [first, second]) {
      const keyVolume = (replica.volumes ?? []).find((v) =>
        keyFile.startsWith(`${v.split(':')[1]}/`),
      );
      expect(keyVolume, `a volume holding ${keyFile}`).toBeDefined();
      expect(compose.volumes).toHaveProperty(keyVolume!.split(':')[0] as string);
    }
    // TLS from the dev-certs directory, mounted where the variables point.
    const certsMount = (first.volumes ?? []).find((v) => v.startsWith(`${CERTS_DIR}:`));
    const certsTarget = certsMount?.split(':')[1] as string;
    expect(env.TLS_CERT_FILE).toBe(`${certsTarget}/server.crt`);
    expect(env.TLS_KEY_FILE).toBe(`${certsTarget}/server.key`);
  });

  it('gives the API and agent only variables their configuration really reads', () => {
    const apiReads = variablesRead('control-api/src', 'logging/src');
    const agentReads = variablesRead('collector-agent/src', 'logging/src');
    expect(apiReads).toContain('DATABASE_URL');
    const given = (name: string, reads: Set<string>) => {
      for (const variable of Object.keys(service(name).environment ?? {})) {
        expect(reads, `${name}: ${variable} is read`).toContain(variable);
      }
    };
    for (const replica of API_REPLICAS) given(replica, apiReads);
    for (const [name, svc] of Object.entries(compose.services)) {
      if ((svc.command ?? []).some((c) => c.includes('cybercorp-agent'))) given(name, agentReads);
    }
  });

  it('trusts X-Forwarded-For from the gateway alone, at a fixed address of a fixed subnet', () => {
    const gatewayAddress = service('gateway').networks?.default?.ipv4_address;
    expect(gatewayAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const subnet = compose.networks?.default?.ipam?.config?.[0];
    expect(subnet?.subnet).toBe('172.28.0.0/24');
    expect(gatewayAddress?.startsWith('172.28.0.')).toBe(true);
    // Dynamic addresses come from the upper half, so no other container can take the gateway's.
    expect(subnet?.ip_range).toBe('172.28.0.128/25');
    expect(Number(gatewayAddress?.split('.')[3])).toBeLessThan(128);
    for (const replica of API_REPLICAS) {
      expect(service(replica).environment?.TRUSTED_PROXIES).toBe(gatewayAddress);
    }
  });

  it('runs the gateway on the shipped configuration, with upstreams named in compose', () => {
    const gateway = service('gateway');
    expect(gateway.image).toMatch(/^nginx:1\.22\./);
    expect(gateway.volumes).toEqual(
      expect.arrayContaining([
        './gateway/nginx.conf:/etc/nginx/nginx.conf:ro',
        './gateway/proxy.conf:/etc/nginx/proxy.conf:ro',
        './gateway/compose:/etc/nginx/deployment:ro',
      ]),
    );
    const upstreams = readFileSync(join(root, 'gateway/compose/upstream-servers.conf'), 'utf8');
    const servers = [...upstreams.matchAll(/^server ([a-z0-9-]+):(\d+) /gm)];
    expect(servers.map((m) => m[1])).toEqual(API_REPLICAS);
    for (const [, host, port] of servers) {
      expect(service(host as string).environment?.PORT).toBe(port);
    }
    // Certificate paths in the deployment files lie inside the mounted certificate directory.
    const certsMount = gateway.volumes?.find((v) => v.startsWith(`${CERTS_DIR}:`));
    const certsTarget = certsMount?.split(':')[1] as string;
    const serverConf = readFileSync(join(root, 'gateway/compose/server.conf'), 'utf8');
    const paths = [...serverConf.matchAll(/^\S+ (\/\S+);$/gm)].map((m) => m[1] as string);
    expect(paths.length).toBe(3);
    for (const path of paths) {
      expect(path.startsWith(`${certsTarget}/`), path).toBe(true);
      expect(existsSync(join(certs.dir, path.slice(certsTarget.length))), path).toBe(true);
    }
  });

  it('sends Grafana to the API through the gateway', () => {
    const env = service('grafana').environment ?? {};
    expect(env.CYBERCORP_CONTROL_API_URL).toBe('https://gateway');
    const caMount = service('grafana').volumes?.find((v) => v.endsWith(`:${env.SSL_CERT_FILE}:ro`));
    expect(caMount).toBe(`${CERTS_DIR}/ca.crt:${env.SSL_CERT_FILE}:ro`);
    for (const [name, svc] of Object.entries(compose.services)) {
      const text = JSON.stringify(svc.environment ?? {});
      expect(text, `${name} reaches the API directly`).not.toMatch(/\/\/control-api(-\d)?[:/]/);
    }
  });

  it('archives WAL, replicates synchronously, and backs up daily into volumes', () => {
    const primary = service('postgres');
    const settings = (primary.command ?? []).filter((_, i, all) => all[i - 1] === '-c');
    expect(settings).toEqual(
      expect.arrayContaining(['wal_level=replica', 'archive_mode=on', 'synchronous_commit=on']),
    );
    // The archive_command the point-in-time-recovery test runs, the script mounted from scripts/.
    const archiveDir = '/var/lib/postgresql/wal-archive';
    expect(primary.volumes).toContain(`postgres-wal-archive:${archiveDir}`);
    const scriptFile = relative(root, ARCHIVE_WAL_SCRIPT);
    const script = mountedAt(primary, scriptFile);
    expect(script, `the postgres service mounts ${scriptFile}`).toBeDefined();
    expect(settings.filter((c) => c.startsWith('archive_command='))).toEqual([
      `archive_command=${archiveCommand(archiveDir, script)}`,
    ]);
    // The primary waits for the standby the replica service says it is.
    expect(primary.environment?.POSTGRES_SYNCHRONOUS_STANDBY).toBe(
      service('postgres-replica').environment?.STANDBY_NAME,
    );

    const backup = service('postgres-backup');
    expect(existsSync(join(root, 'scripts/backup-schedule'))).toBe(true);
    expect(backup.volumes).toEqual(
      expect.arrayContaining([
        './scripts:/opt/cybercorp/scripts:ro',
        'backups:/backups',
        'postgres-wal-archive:/wal-archive',
      ]),
    );
    expect(backup.environment).toMatchObject({
      BACKUP_DIR: '/backups',
      BACKUP_RETENTION_DAYS: '${BACKUP_RETENTION_DAYS:-30}',
      WAL_ARCHIVE_DIR: '/wal-archive',
    });
    expect(backup.environment?.DATABASE_URL).toBe(
      service('control-api-1').environment?.DATABASE_URL,
    );
  });

  it('sets every variable the Collector configuration reads without a default', () => {
    const collectorYaml = readFileSync(join(root, 'otel-config/collector.yaml'), 'utf8');
    const env = service('otel-collector').environment ?? {};
    const referenced = [...collectorYaml.matchAll(ENV_REFERENCE)];
    expect(referenced.length).toBeGreaterThan(0);
    for (const [, name, fallback] of referenced) {
      if (!fallback) expect(env, `otel-collector env ${name}`).toHaveProperty(name as string);
    }
    expect(env.PROMETHEUS_REMOTE_WRITE_URL).toBe('http://prometheus:9090/api/v1/write');
  });

  it('runs Prometheus with the remote-write receiver and the project rules', () => {
    const prometheus = service('prometheus');
    expect(prometheus.command).toContain('--web.enable-remote-write-receiver');
    expect(prometheus.volumes).toContain('./prometheus/rules:/etc/prometheus/rules:ro');
    const prometheusYaml = parse(readFileSync(join(root, 'prometheus/prometheus.yml'), 'utf8'));
    expect(JSON.stringify(prometheusYaml.rule_files)).toContain('rules/');
  });

  it('delivers Alertmanager notifications to a receiver that exists in the stack', () => {
    const alertmanagerYaml = readFileSync(join(root, 'prometheus/alertmanager.yml'), 'utf8');
    const hosts = [...alertmanagerYaml.matchAll(/url: https?:\/\/([a-z0-9-]+):/g)].map((m) => m[1]);
    expect(hosts.length).toBeGreaterThan(0);
    for (const host of hosts) expect(Object.keys(compose.services)).toContain(host);
  });

  it("sets every variable Grafana's provisioning files read", () => {
    const env = service('grafana').environment ?? {};
    const dir = join(root, 'grafana-app-plugin/provisioning');
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) =>
      f.endsWith('.yaml'),
    );
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const text = readFileSync(join(dir, file), 'utf8');
      for (const [, name] of text.matchAll(/\$\{([A-Z0-9_]+)\}/g)) {
        expect(env, `${file} reads ${name}`).toHaveProperty(name as string);
      }
    }
  });

  it('builds the Collector from the project manifest', () => {
    expect(service('otel-collector').build).toBe('./otel-config');
    const dockerfile = readFileSync(join(root, 'otel-config/Dockerfile'), 'utf8');
    expect(dockerfile).toContain('builder-config.yaml');
    expect(dockerfile).toContain('collector.yaml');
  });

  it('loads the unsigned CyberCorp plugin by its id in Grafana', () => {
    const grafana = service('grafana');
    expect(grafana.environment?.GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS).toBe(
      'cybercorp-fleet-app',
    );
    expect(grafana.volumes).toContain(
      './grafana-app-plugin/dist:/var/lib/grafana/plugins/cybercorp-fleet-app:ro',
    );
  });
});
