import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// No Docker engine runs here, so the deployment file is checked by reading it: every mounted
// file exists in the repository, every service speaks on its standard port, and the
// configuration the services read matches what the project ships.
const root = resolve(import.meta.dirname, '..');

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, unknown> | string[];
}
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
};
const service = (name: string): ComposeService => {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
};

describe('docker-compose.yml', () => {
  it('has the whole stack', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      [
        'alert-webhook',
        'alertmanager',
        'control-api',
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
        if (source.startsWith('./')) {
          // The plugin's dist/ is produced by `npm run build`; everything else is committed.
          if (source === './grafana-app-plugin/dist') continue;
          expect(existsSync(join(root, source)), `${name} mounts ${source}`).toBe(true);
        } else {
          expect(compose.volumes, `${name} uses volume ${source}`).toHaveProperty(source);
        }
      }
    }
  });

  it('publishes the standard ports', () => {
    const ports = (name: string) => service(name).ports ?? [];
    expect(ports('control-api')).toContain('8080:8080');
    expect(ports('otel-collector')).toEqual(expect.arrayContaining(['4317:4317', '4318:4318']));
    expect(ports('prometheus')).toContain('9090:9090');
    expect(ports('alertmanager')).toContain('9093:9093');
    expect(ports('grafana')).toContain('3000:3000');
  });

  it('gives the control API its database and Redis through the contract variables', () => {
    const env = service('control-api').environment ?? {};
    // Both database hosts, libpq-style: the API writes to whichever is the primary.
    expect(env.DATABASE_URL).toMatch(
      /^postgres:\/\/.*@postgres:5432,postgres-replica:5432\/cybercorp\?target_session_attrs=read-write$/,
    );
    expect(env.REDIS_URL).toBe('redis://redis:6379');
    expect(env).toHaveProperty('CYBERCORP_ADMIN_USER');
    expect(env).toHaveProperty('CYBERCORP_ADMIN_PASSWORD');
    // Secrets are required from the environment, never committed as literals.
    expect(env.CYBERCORP_ADMIN_PASSWORD).toMatch(/^\$\{CYBERCORP_ADMIN_PASSWORD:\?/);
  });

  it('archives WAL, replicates synchronously, and backs up daily into volumes', () => {
    const primary = service('postgres');
    const settings = (primary.command ?? []).filter((_, i, all) => all[i - 1] === '-c');
    expect(settings).toEqual(
      expect.arrayContaining(['wal_level=replica', 'archive_mode=on', 'synchronous_commit=on']),
    );
    const archive = settings.find((c) => c.startsWith('archive_command='));
    expect(archive).toContain('/var/lib/postgresql/wal-archive/%f');
    expect(primary.volumes).toContain('postgres-wal-archive:/var/lib/postgresql/wal-archive');
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
    expect(backup.environment?.DATABASE_URL).toBe(service('control-api').environment?.DATABASE_URL);
  });

  it('sets every variable the Collector configuration reads without a default', () => {
    const collectorYaml = readFileSync(join(root, 'otel-config/collector.yaml'), 'utf8');
    const env = service('otel-collector').environment ?? {};
    const referenced = [...collectorYaml.matchAll(/\$\{env:([A-Z0-9_]+)(:-[^}]*)?\}/g)];
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
